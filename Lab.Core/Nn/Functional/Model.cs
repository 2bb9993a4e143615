namespace Lab.Core.Nn;

/// <summary>
/// A functional model (Keras's Model(inputs, outputs)): the graph of layer calls between symbolic inputs and outputs,
/// run in topological order. Several inputs and outputs, shared layers (registered once: one set of weights, whose
/// gradient sums over every use), residual and branching graphs, and models used as layers of other models. Its
/// layers are its children under their names, so state dicts and checkpoints read "shared.weight".
/// </summary>
public sealed class Model : Module
{
    /// <summary>One layer call in topological order, with where its inputs and outputs live in the value slots.</summary>
    private sealed class Step(LayerNode node, int[] inSlots, int[] outSlots)
    {
        public readonly LayerNode Node = node;
        public readonly int[] InSlots = inSlots, OutSlots = outSlots;
        public readonly Tensor[] In = new Tensor[inSlots.Length];     // reused: a step allocates nothing
        public readonly Tensor[] Out = new Tensor[outSlots.Length];
        public readonly Tensor?[] InMasks = new Tensor?[inSlots.Length];
    }

    private readonly SymbolicTensor[] _inputs, _outputs;
    private readonly LayerNode[] _nodes;          // topological, inputs first
    private readonly Step[] _steps;
    private readonly int[] _inputSlots, _outputSlots;
    private readonly Tensor?[] _values;
    private readonly Tensor?[] _masks;            // Keras's masks beside the values: [B, T], 1 = keep; null for none
    private readonly Tensor[] _one = new Tensor[1], _oneOut;

    public Model(SymbolicTensor input, SymbolicTensor output, string? name = null) : this([input], [output], name) { }

    public Model(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        Name = name ?? Functional.UniqueName("model");
        if (inputs.Count == 0 || outputs.Count == 0) throw new ArgumentException($"Model '{Name}': needs at least one input and one output.");
        _inputs = [.. inputs];
        _outputs = [.. outputs];
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (_inputs[i] is null || !_inputs[i].Node.IsInput)
                throw new ArgumentException($"Model '{Name}': input {i} ({_inputs[i]?.Name ?? "null"}) is not an Input(...) tensor.");
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(_inputs[i], _inputs[j])) throw new ArgumentException($"Model '{Name}': input '{_inputs[i].Name}' is given twice.");
        }
        for (int i = 0; i < _outputs.Length; i++)
            if (_outputs[i] is null) throw new ArgumentException($"Model '{Name}': output {i} is null.");

        _nodes = TopologicalOrder();
        var slots = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        foreach (var node in _nodes)
            foreach (var t in node.Outputs) slots[t] = slots.Count;
        _values = new Tensor?[slots.Count];
        _masks = new Tensor?[slots.Count];
        _inputSlots = Array.ConvertAll(_inputs, t => slots[t]);
        _outputSlots = Array.ConvertAll(_outputs, t => slots[t]);
        _oneOut = new Tensor[_outputs.Length];
        _steps = [.. _nodes.Where(n => !n.IsInput).Select(n => new Step(n,
            [.. n.Inputs.Select(t => slots[t])], [.. n.Outputs.Select(t => slots[t])]))];

        RegisterLayers();
        InputNames = [.. _inputs.Select(t => t.Name)];
        OutputNames = UniqueOutputNames();
    }

    public IReadOnlyList<SymbolicTensor> Inputs => _inputs;
    public IReadOnlyList<SymbolicTensor> Outputs => _outputs;
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The output layers' names (Keras's output_names): the keys of per-output losses, weights and metrics.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Every layer call, inputs first, in the order the model runs them.</summary>
    public IReadOnlyList<LayerNode> Nodes => _nodes;

    /// <summary>The distinct layers in the order they first run (a shared layer once).</summary>
    public IReadOnlyList<Module> Layers => [.. NamedChildren().Select(c => c.Module)];

    /// <summary>The layer of that name.</summary>
    public Module GetLayer(string name) => NamedChildren().FirstOrDefault(c => c.Name == name).Module
        ?? throw new ArgumentException($"Model '{Name}': no layer named '{name}'; layers: {string.Join(", ", NamedChildren().Select(c => c.Name))}.");

    /// <summary>The model on one tensor (one input, one output).</summary>
    public override Tensor Forward(Tensor x)
    {
        if (_inputs.Length != 1 || _outputs.Length != 1)
            throw new InvalidOperationException($"Model '{Name}' has {_inputs.Length} inputs and {_outputs.Length} outputs; call it with Call(inputs) or Predict(...).");
        _one[0] = x;
        Run(_one, _oneOut);
        return _oneOut[0];
    }

    /// <summary>The model on its inputs, in the order of <see cref="Inputs"/>; one tensor per output.</summary>
    public Tensor[] Call(IReadOnlyList<Tensor> inputs)
    {
        var outputs = new Tensor[_outputs.Length];
        Run(inputs, outputs);
        return outputs;
    }

    /// <summary>The model's outputs for a batch of each input, in eval mode without gradients (Keras's predict_on_batch).</summary>
    public Tensor[] Predict(params Tensor[] inputs)
    {
        bool wasTraining = Training;
        Eval();
        try
        {
            using var _ = new Autodiff.NoGrad();
            return Call(inputs);
        }
        finally { Train(wasTraining); }
    }

    /// <summary>
    /// Runs the graph, writing one tensor per output into <paramref name="outputs"/>; allocates nothing, so a training
    /// step in a <see cref="TensorScope"/> stays allocation-free.
    /// </summary>
    internal void Run(IReadOnlyList<Tensor> inputs, Tensor[] outputs)
    {
        if (inputs.Count != _inputs.Length)
            throw new ArgumentException($"Model '{Name}': expects {_inputs.Length} inputs ({string.Join(", ", InputNames)}), got {inputs.Count}.");
        for (int i = 0; i < _inputs.Length; i++)
        {
            var x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"Model '{Name}': input '{InputNames[i]}' is null.");
            if (!SymbolicShape.Fits(_inputs[i].Shape, x.Shape))
                throw new ArgumentException($"Model '{Name}': input '{InputNames[i]}' expects shape {SymbolicShape.Format(_inputs[i].Shape)}, got {ShapeUtil.Format(x.Shape)}.");
            _values[_inputSlots[i]] = x;
        }
        try
        {
            foreach (var step in _steps)
            {
                for (int i = 0; i < step.In.Length; i++) step.In[i] = _values[step.InSlots[i]]!;
                var layer = step.Node.Layer!;
                if (layer is Model inner)
                {
                    inner.Run(step.In, step.Out);
                    for (int i = 0; i < step.Out.Length; i++) _values[step.OutSlots[i]] = step.Out[i];
                }
                else RunLayer(layer, step);
            }
            for (int i = 0; i < outputs.Length; i++) outputs[i] = _values[_outputSlots[i]]!;
        }
        finally
        {
            // The model keeps no tensor of a finished call alive (nor one a TensorScope will recycle).
            Array.Clear(_values);
            Array.Clear(_masks);
            foreach (var step in _steps) { Array.Clear(step.In); Array.Clear(step.Out); Array.Clear(step.InMasks); }
        }
    }

    /// <summary>
    /// One layer call with Keras's masks: a masked layer (Embedding with maskZero, the recurrent layers ...) gets its
    /// input's mask and says what its output carries; the attention layers get their inputs' masks (query, value, key);
    /// a merge ANDs its inputs' masks; any other layer keeps the mask while its output keeps the [B, T] axes.
    /// </summary>
    private void RunLayer(Module layer, Step step)
    {
        int outSlot = step.OutSlots[0];
        if (layer is IMultiInputLayer multi)
        {
            Tensor? any = null;
            for (int i = 0; i < step.InSlots.Length; i++) any ??= _masks[step.InSlots[i]];
            if (any is null) { _values[outSlot] = multi.Forward(step.In); return; }
            var masks = step.InMasks;
            for (int i = 0; i < masks.Length; i++) masks[i] = _masks[step.InSlots[i]];
            if (layer is IMultiInputModule attention)
            {
                _values[outSlot] = attention.Forward(step.In, masks);
                _masks[outSlot] = attention.ComputeMask(masks);
                return;
            }
            var y = multi.Forward(step.In);
            Tensor? merged = null;
            foreach (var m in masks) if (m is not null) merged = merged is null ? m : merged * m;
            _values[outSlot] = y;
            _masks[outSlot] = KeepsSteps(y, merged) ? merged : null;
            return;
        }
        var x = step.In[0];
        var mask = _masks[step.InSlots[0]];
        if (layer is IMaskedLayer masked)
        {
            _masks[outSlot] = masked.ComputeMask(x, mask);
            _values[outSlot] = mask is null ? layer.Call(x) : Masks.CallMasked(layer, masked, x, mask);
            return;
        }
        var output = layer.Call(x);
        _values[outSlot] = output;
        _masks[outSlot] = KeepsSteps(output, mask) ? mask : null;
    }

    private static bool KeepsSteps(Tensor y, Tensor? mask) =>
        mask is not null && y.Rank >= 2 && y.Shape[0] == mask.Shape[0] && y.Shape[1] == mask.Shape[1];

    /// <summary>The output shapes for given input shapes: the graph's own where they fit, else found by running it.</summary>
    internal int?[][] ComputeOutputShapes(int?[][] inputShapes)
    {
        for (int i = 0; i < inputShapes.Length; i++)
        {
            var want = _inputs[i].ShapeRef;
            bool fits = want.Length == inputShapes[i].Length;
            for (int d = 1; fits && d < want.Length; d++) fits = want[d] is null || want[d] == inputShapes[i][d];
            if (!fits)
                throw new ArgumentException($"input '{InputNames[i]}' expects shape {SymbolicShape.Format(want)}, got {SymbolicShape.Format(inputShapes[i])}.");
        }
        return [.. _outputs.Select(o => (int?[])[inputShapes[0][0], .. o.ShapeRef[1..]])];
    }

    /// <summary>Depth-first from the outputs: every node after the nodes it reads; an input outside the model is an error.</summary>
    private LayerNode[] TopologicalOrder()
    {
        var order = new List<LayerNode>();
        var done = new HashSet<LayerNode>(ReferenceEqualityComparer.Instance);
        foreach (var t in _inputs)
            if (done.Add(t.Node)) order.Add(t.Node);
        // An explicit stack: a deep graph (hundreds of residual blocks) must not overflow the call stack.
        var stack = new Stack<(LayerNode Node, int Next)>();
        foreach (var output in _outputs)
        {
            if (done.Contains(output.Node)) continue;
            CheckReachable(output, null);
            stack.Push((output.Node, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < node.Inputs.Count)
                {
                    stack.Push((node, next + 1));
                    var input = node.Inputs[next];
                    CheckReachable(input, node);
                    if (!done.Contains(input.Node)) stack.Push((input.Node, 0));
                }
                else if (done.Add(node)) order.Add(node);
            }
        }
        return [.. order];
    }

    private void CheckReachable(SymbolicTensor t, LayerNode? consumer)
    {
        if (!t.Node.IsInput || _inputs.Any(i => ReferenceEquals(i, t))) return;
        string who = consumer is null ? $"output '{t.Name}'" : $"layer '{consumer.LayerName}'";
        throw new ArgumentException($"Model '{Name}': graph disconnected: {who} needs input '{t.Name}' {SymbolicShape.Format(t.Shape)}, " +
            $"which is not among the model's inputs ({string.Join(", ", _inputs.Select(i => $"'{i.Name}'"))}).");
    }

    /// <summary>Each distinct layer once, under its name; a name shared by two layers, or one tensor reached twice, is an error.</summary>
    private void RegisterLayers()
    {
        var byName = new Dictionary<string, Module>();
        foreach (var t in _inputs)
            if (!byName.TryAdd(t.Name, null!))
                throw new ArgumentException($"Model '{Name}': two inputs are named '{t.Name}'; names must be unique within a model.");
        foreach (var node in _nodes)
        {
            if (node.IsInput) continue;
            var layer = node.Layer!;
            if (byName.TryGetValue(node.LayerName, out var seen))
            {
                if (ReferenceEquals(seen, layer)) continue;
                string other = seen is null ? "an input" : $"a {seen.GetType().Name}";
                throw new ArgumentException($"Model '{Name}': two layers are named '{node.LayerName}' ({other} and a {layer.GetType().Name}); names must be unique within a model.");
            }
            if (node.LayerName.Contains('.'))
                throw new ArgumentException($"Model '{Name}': layer name '{node.LayerName}' contains a dot, which state-dict names use as a separator.");
            byName[node.LayerName] = layer;
            RegisterModule(node.LayerName, layer);
        }
        // A layer reached both directly and inside a nested model (or a Sequential) would be stepped twice per update.
        var paths = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (path, p) in NamedParameters().Concat(NamedBuffers()))
            if (!paths.TryAdd(p, path))
                throw new ArgumentException($"Model '{Name}': the same tensor is reached as '{paths[p]}' and as '{path}': a layer used both " +
                    "directly and inside a nested model would be updated twice per step; call the nested model only, or the layer only.");
    }

    private string[] UniqueOutputNames()
    {
        var names = new string[_outputs.Length];
        var used = new HashSet<string>();
        for (int i = 0; i < names.Length; i++)
        {
            string name = _outputs[i].Name;
            for (int k = 1; !used.Add(name); k++) name = $"{_outputs[i].Name}_{k}";
            names[i] = name;
        }
        return names;
    }

    /// <summary>
    /// Keras's functional summary as a value: one row per layer with its output shape, parameters and inbound layers
    /// ("Connected to"); <see cref="FunctionalSummary.Render"/> gives Keras's own text.
    /// </summary>
    public ModelSummary Summary() => FunctionalSummary.Table(this);

    /// <summary>The graph of layers for a picture (Keras's plot_model): boxes with shapes, and edges.</summary>
    public ModelGraph Graph() => ModelGraph.Of(this);

    public override string Describe() => $"Model '{Name}' ({_inputs.Length} in, {_outputs.Length} out, {_steps.Length} calls)";
}
