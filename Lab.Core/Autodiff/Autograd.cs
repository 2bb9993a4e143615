using Lab.Core.Backends;
using Lab.Core.Autodiff;
using Lab.Core.Diagnostics;

namespace Lab.Core;

/// <summary>The reverse-mode engine: a topological sort of the recorded graph and one reverse walk.</summary>
public static partial class Autograd
{
    /// <summary>
    /// The engine's working sets for one run: gradients by tensor, the topological order and the walk's
    /// stack. Pooled per thread and cleared after use, so a backward pass in steady state allocates nothing
    /// (a nested run, from a custom node's backward, takes another one).
    /// </summary>
    private sealed class Run
    {
        public readonly Dictionary<Tensor, Tensor> Grads = new(ReferenceEqualityComparer.Instance);
        public readonly HashSet<Tensor> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly HashSet<Tensor> Capture = new(ReferenceEqualityComparer.Instance);
        /// <summary>Gradient buffers the engine made and nothing else holds: safe to add into in place.</summary>
        public readonly HashSet<Tensor> Owned = new(ReferenceEqualityComparer.Instance);
        public readonly List<Tensor> Order = [];
        public readonly Stack<(Tensor T, int Next)> Walk = new();

        public void Clear()
        {
            Grads.Clear();
            Visited.Clear();
            Capture.Clear();
            Owned.Clear();
            Order.Clear();
            Walk.Clear();
        }
    }

    [ThreadStatic] private static Stack<Run>? t_runs;

    private static Run RentRun() => t_runs is { Count: > 0 } runs ? runs.Pop() : new Run();

    private static void ReturnRun(Run run)
    {
        run.Clear();
        (t_runs ??= new Stack<Run>()).Push(run);
    }

    /// <summary>Accumulates d(output)/d(leaf) into every reachable leaf's Grad.</summary>
    public static void Backward(Tensor output, Tensor? gradOutput = null, bool retainGraph = false, bool createGraph = false)
    {
        if (!output.RequiresGrad)
            throw new InvalidOperationException($"Backward: the tensor of shape {ShapeUtil.Format(output.Shape)} does not require grad (no input was marked RequiresGrad, or it was made under NoGrad).");
        var run = RentRun();
        try
        {
            Seed(run, output, gradOutput);
            Walk(run, output);
            Propagate(run, retainGraph || createGraph, createGraph, capture: false);
            foreach (var (leaf, g) in run.Grads)
            {
                if (!leaf.IsLeaf) continue;
                AccumulateGrad(leaf, g, createGraph);
            }
        }
        finally { ReturnRun(run); }
    }

    /// <summary>
    /// The gradients of the sum of <paramref name="outputs"/> (weighted by <paramref name="gradOutputs"/>)
    /// with respect to <paramref name="inputs"/>, without touching any Grad. With <paramref name="createGraph"/>
    /// the results are recorded and can themselves be differentiated (higher-order derivatives).
    /// An input the outputs do not depend on gets null, or zeros when <paramref name="materializeUnused"/>.
    /// </summary>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null,
        bool createGraph = false, bool? retainGraph = null, bool materializeUnused = false)
    {
        var result = new Tensor?[inputs.Length];
        GradInto(outputs, inputs, result, gradOutputs, createGraph, retainGraph, materializeUnused);
        return result;
    }

    /// <summary>The gradient of one output (a scalar, or weighted by <paramref name="gradOutput"/>) with respect to one input; null when it does not depend on it.</summary>
    public static Tensor? Grad(Tensor output, Tensor input, Tensor? gradOutput = null, bool createGraph = false, bool? retainGraph = null)
    {
        Span<Tensor?> result = [null];
        GradInto([output], [input], result, [gradOutput], createGraph, retainGraph);
        return result[0];
    }

    /// <summary>
    /// <see cref="Grad(Tensor[], Tensor[], Tensor?[]?, bool, bool?, bool)"/> writing into <paramref name="result"/>
    /// (one slot per input), for loops that must not allocate.
    /// </summary>
    public static void GradInto(ReadOnlySpan<Tensor> outputs, ReadOnlySpan<Tensor> inputs, Span<Tensor?> result,
        ReadOnlySpan<Tensor?> gradOutputs = default, bool createGraph = false, bool? retainGraph = null, bool materializeUnused = false)
    {
        if (result.Length != inputs.Length)
            throw new ArgumentException($"Autograd.Grad: {result.Length} result slots for {inputs.Length} inputs.");
        if (!gradOutputs.IsEmpty && gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"Autograd: {gradOutputs.Length} gradOutputs for {outputs.Length} outputs.");
        foreach (var o in outputs)
            if (!o.RequiresGrad)
                throw new InvalidOperationException($"Autograd.Grad: an output of shape {ShapeUtil.Format(o.Shape)} does not require grad.");
        foreach (var i in inputs)
            if (!i.RequiresGrad)
                throw new InvalidOperationException($"Autograd.Grad: an input of shape {ShapeUtil.Format(i.Shape)} does not require grad; set RequiresGrad on it before the forward pass.");
        var run = RentRun();
        try
        {
            foreach (var i in inputs) run.Capture.Add(i);
            for (int i = 0; i < outputs.Length; i++) Seed(run, outputs[i], gradOutputs.IsEmpty ? null : gradOutputs[i]);
            foreach (var o in outputs) Walk(run, o);
            Propagate(run, retainGraph ?? createGraph, createGraph, capture: true);
            for (int i = 0; i < inputs.Length; i++)
                result[i] = run.Grads.TryGetValue(inputs[i], out var g) ? g : materializeUnused ? Tensor.ZerosLike(inputs[i]) : null;
        }
        finally { ReturnRun(run); }
    }

    private static void Seed(Run run, Tensor o, Tensor? g)
    {
        if (g is null)
        {
            if (o.Numel != 1)
                throw new ArgumentException($"Autograd: a gradient must be given for a non-scalar output of shape {ShapeUtil.Format(o.Shape)}.");
            g = Tensor.Full(o.Shape, 1f, o.Device);
        }
        else if (!g.Shape.SequenceEqual(o.Shape))
            throw new ArgumentException($"Autograd: gradient of shape {ShapeUtil.Format(g.Shape)} given for an output of shape {ShapeUtil.Format(o.Shape)}.");
        Accumulate(run.Grads, o, g);
    }

    private static void Propagate(Run run, bool retainGraph, bool createGraph, bool capture)
    {
        var grads = run.Grads;
        var order = run.Order;
        bool previous = GradMode.SetEnabled(createGraph);
        try
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                var node = t.GradFn!;
                if (!grads.TryGetValue(t, out var g)) continue;
                if (node.Released)
                    throw new InvalidOperationException($"Backward: the graph through {node.Name} was already freed by an earlier backward pass; pass retainGraph: true to the first one.");
                long start = OpProfiler.Enabled ? OpProfiler.Begin() : 0;
                run.Owned.Remove(g);   // handed to a backward rule, which may pass it on as an input's gradient
                if (!createGraph && node is SelectNode select)
                {
                    // A slice adds its gradient into its input's buffer in place. A recurrent layer takes T slices of
                    // one input projection; embedding each in zeros of the full size and summing made backward O(T²)
                    // (T = 200: 85% of an LSTM training step). With createGraph the recorded rule below runs instead.
                    if (select.Inputs[0].RequiresGrad) AccumulateSlice(run, select.Inputs[0], select.Index, g);
                    if (OpProfiler.Enabled) OpProfiler.End(start, "backward", node.Name, node, static n => ((Node)n).Name, node.Inputs[0].Shape);
                    if (!retainGraph) node.Released = true;
                    grads.Remove(t);
                    continue;
                }
                var inputGrads = node.Backward(g);
                if (OpProfiler.Enabled) OpProfiler.End(start, "backward", node.Name, node, static n => ((Node)n).Name, node.Inputs[0].Shape);
                if (!retainGraph) node.Released = true;
                var inputs = node.Inputs;
                for (int j = 0; j < inputs.Length; j++)
                {
                    var input = inputs[j];
                    var gi = inputGrads[j];
                    if (gi is null || !input.RequiresGrad) continue;
                    Accumulate(grads, input, SumToShape(gi, input.Shape));
                }
                // Intermediate gradients are dropped once used, unless asked for.
                if (!capture || !run.Capture.Contains(t)) grads.Remove(t);
            }
        }
        finally { GradMode.SetEnabled(previous); }
    }

    private static void Accumulate(Dictionary<Tensor, Tensor> grads, Tensor t, Tensor g)
    {
        // One hash lookup for the read and the write (the sum below does not touch the dictionary).
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(grads, t, out bool exists);
        slot = exists ? slot! + g : g;
    }

    /// <summary>Adds g into slice <paramref name="index"/> (leading axis) of x's gradient, made a buffer of the engine's own first.</summary>
    private static void AccumulateSlice(Run run, Tensor x, int index, Tensor g)
    {
        if (!run.Grads.TryGetValue(x, out var buffer) || !run.Owned.Contains(buffer))
        {
            var fresh = Tensor.Empty(x.Shape, x.Device, zero: buffer is null);
            if (buffer is not null) fresh.Backend.Copy(buffer, fresh);
            run.Grads[x] = buffer = fresh;
            run.Owned.Add(fresh);
        }
        var slice = buffer.Select(index);   // a view: gradient mode is off here
        slice.Backend.Axpy(1f, g, slice);
    }

    private static void AccumulateGrad(Tensor leaf, Tensor g, bool createGraph)
    {
        if (createGraph)
        {
            leaf.Grad = leaf.Grad is null ? g : leaf.Grad + g;
            TensorScope.TrackGrad(leaf, leaf.Grad);   // cleared when the scope that made it ends
            return;
        }
        if (leaf.Grad is null || !leaf.Grad.Shape.SequenceEqual(leaf.Shape) || leaf.Grad.GradFn is not null)
        {
            // A fresh buffer: g may alias a tensor of the graph (Add passes its gradient through). It outlives
            // the step, unless the leaf itself is one of the step's tensors (an input made to require grad).
            using var persistent = TensorScope.CurrentOwns(leaf) ? default : TensorScope.Suspend();
            var buffer = Tensor.Empty(leaf.Shape, leaf.Device);
            buffer.Backend.Copy(g, buffer);
            leaf.Grad = buffer;
        }
        else leaf.Grad.Backend.Axpy(1f, g, leaf.Grad);
    }

    /// <summary>Appends the non-leaf tensors reachable from <paramref name="output"/> to the run's order, each after all tensors it depends on.</summary>
    private static void Walk(Run run, Tensor output)
    {
        var order = run.Order;
        var visited = run.Visited;
        var stack = run.Walk;
        if (output.GradFn is null || !visited.Add(output)) return;
        stack.Push((output, 0));
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.GradFn is not null && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(t);
        }
    }

    /// <summary>
    /// Sums a broadcast gradient back to the shape of the input it belongs to: the one place where
    /// broadcasting's adjoint lives (extra leading axes and axes of size 1 are summed away).
    /// </summary>
    public static Tensor SumToShape(Tensor g, ReadOnlySpan<int> shape)
    {
        if (g.Shape.SequenceEqual(shape)) return g;
        if (ShapeUtil.Numel(shape) == g.Numel) return g.Reshape(shape);
        int lead = g.Rank - shape.Length;
        if (lead < 0)
            throw new InvalidOperationException($"Autograd: gradient of shape {ShapeUtil.Format(g.Shape)} cannot be reduced to {ShapeUtil.Format(shape)}.");
        Span<int> axes = stackalloc int[g.Rank];
        int count = 0;
        for (int i = 0; i < g.Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes[count++] = i;
        var reduced = g.Sum(axes[..count], keepDim: true);
        return reduced.Reshape(shape);
    }
}
