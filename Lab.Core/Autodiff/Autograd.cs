using Lab.Core.Backends;
using Lab.Core.Autodiff;
using Lab.Core.Diagnostics;

namespace Lab.Core;

/// <summary>The reverse-mode engine: a topological sort of the recorded graph and one reverse walk.</summary>
public static class Autograd
{
    /// <summary>Accumulates d(output)/d(leaf) into every reachable leaf's Grad.</summary>
    public static void Backward(Tensor output, Tensor? gradOutput = null, bool retainGraph = false, bool createGraph = false)
    {
        if (!output.RequiresGrad)
            throw new InvalidOperationException($"Backward: the tensor of shape {ShapeUtil.Format(output.Shape)} does not require grad (no input was marked RequiresGrad, or it was made under NoGrad).");
        var grads = Run([output], [gradOutput], retainGraph || createGraph, createGraph, capture: null);
        foreach (var (leaf, g) in grads)
        {
            if (!leaf.IsLeaf) continue;
            AccumulateGrad(leaf, g, createGraph);
        }
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
        foreach (var o in outputs)
            if (!o.RequiresGrad)
                throw new InvalidOperationException($"Autograd.Grad: an output of shape {ShapeUtil.Format(o.Shape)} does not require grad.");
        foreach (var i in inputs)
            if (!i.RequiresGrad)
                throw new InvalidOperationException($"Autograd.Grad: an input of shape {ShapeUtil.Format(i.Shape)} does not require grad; set RequiresGrad on it before the forward pass.");
        var capture = new HashSet<Tensor>(inputs, ReferenceEqualityComparer.Instance);
        var grads = Run(outputs, gradOutputs ?? new Tensor?[outputs.Length], retainGraph ?? createGraph, createGraph, capture);
        var result = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            result[i] = grads.TryGetValue(inputs[i], out var g) ? g : materializeUnused ? Tensor.ZerosLike(inputs[i]) : null;
        return result;
    }

    private static Dictionary<Tensor, Tensor> Run(Tensor[] outputs, Tensor?[] gradOutputs, bool retainGraph,
        bool createGraph, HashSet<Tensor>? capture)
    {
        if (gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"Autograd: {gradOutputs.Length} gradOutputs for {outputs.Length} outputs.");
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < outputs.Length; i++)
        {
            var o = outputs[i];
            var g = gradOutputs[i];
            if (g is null)
            {
                if (o.Numel != 1)
                    throw new ArgumentException($"Autograd: a gradient must be given for a non-scalar output of shape {ShapeUtil.Format(o.Shape)}.");
                g = Tensor.Full(o.ShapeArray(), 1f, o.Device);
            }
            else if (!g.Shape.SequenceEqual(o.Shape))
                throw new ArgumentException($"Autograd: gradient of shape {ShapeUtil.Format(g.Shape)} given for an output of shape {ShapeUtil.Format(o.Shape)}.");
            Accumulate(grads, o, g);
        }

        var order = TopologicalOrder(outputs);
        using var mode = createGraph ? (IDisposable)new EnableGrad() : new NoGrad();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var node = t.GradFn!;
            if (!grads.TryGetValue(t, out var g)) continue;
            if (node.Released)
                throw new InvalidOperationException($"Backward: the graph through {node.Name} was already freed by an earlier backward pass; pass retainGraph: true to the first one.");
            long start = OpProfiler.Enabled ? OpProfiler.Begin() : 0;
            var inputGrads = node.Backward(g);
            if (OpProfiler.Enabled) OpProfiler.End(start, "backward", node.Name, node, static n => ((Node)n).Name, node.Inputs[0].Shape);
            if (!retainGraph) node.Released = true;
            for (int j = 0; j < node.Inputs.Length; j++)
            {
                var input = node.Inputs[j];
                var gi = inputGrads[j];
                if (gi is null || !input.RequiresGrad) continue;
                Accumulate(grads, input, SumToShape(gi, input.ShapeRef));
            }
            // Intermediate gradients are dropped once used, unless asked for.
            if (capture is null || !capture.Contains(t)) grads.Remove(t);
        }
        return grads;
    }

    private static void Accumulate(Dictionary<Tensor, Tensor> grads, Tensor t, Tensor g)
        => grads[t] = grads.TryGetValue(t, out var existing) ? existing + g : g;

    private static void AccumulateGrad(Tensor leaf, Tensor g, bool createGraph)
    {
        if (createGraph) { leaf.Grad = leaf.Grad is null ? g : leaf.Grad + g; return; }
        if (leaf.Grad is null || !leaf.Grad.Shape.SequenceEqual(leaf.Shape) || leaf.Grad.GradFn is not null)
        {
            // A fresh buffer: g may alias a tensor of the graph (Add passes its gradient through).
            using var persistent = TensorScope.Suspend();   // the gradient outlives the step
            var buffer = Tensor.Empty(leaf.Shape, leaf.Device);
            buffer.Backend.Copy(g, buffer);
            leaf.Grad = buffer;
        }
        else leaf.Grad.Backend.Axpy(1f, g, leaf.Grad);
    }

    /// <summary>The non-leaf tensors reachable from the outputs, each after all tensors it depends on.</summary>
    private static List<Tensor> TopologicalOrder(Tensor[] outputs)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        foreach (var o in outputs)
        {
            if (o.GradFn is null || !visited.Add(o)) continue;
            stack.Push((o, 0));
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
        return order;
    }

    /// <summary>
    /// Sums a broadcast gradient back to the shape of the input it belongs to: the one place where
    /// broadcasting's adjoint lives (extra leading axes and axes of size 1 are summed away).
    /// </summary>
    public static Tensor SumToShape(Tensor g, ReadOnlySpan<int> shape)
    {
        if (g.Shape.SequenceEqual(shape)) return g;
        if (ShapeUtil.Numel(shape) == g.Numel) return g.Reshape(shape.ToArray());
        int lead = g.Rank - shape.Length;
        if (lead < 0)
            throw new InvalidOperationException($"Autograd: gradient of shape {ShapeUtil.Format(g.Shape)} cannot be reduced to {ShapeUtil.Format(shape)}.");
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
        var reduced = g.Sum(axes.ToArray(), keepDim: true);
        return reduced.Reshape(shape.ToArray());
    }
}
