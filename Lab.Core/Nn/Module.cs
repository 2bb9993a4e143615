using Lab.Core.Autodiff;
using Lab.Core.Diagnostics;

namespace Lab.Core.Nn;

/// <summary>
/// A model part with parameters, buffers and submodules, named with dots as in PyTorch
/// ("encoder.0.weight"). Layers override <see cref="Forward"/>; callers use <see cref="Call"/>, which
/// also lets <see cref="Summary"/> see every layer's output shape.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];

    public bool Training { get; private set; } = true;

    /// <summary>
    /// The layer's name in a functional <see cref="Model"/> (Keras's name argument: "age", "dense_1"); a layer called
    /// on symbolic tensors without one gets a Keras-style name from its type at its first call.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The module's computation on one tensor. Models with other signatures add their own methods.</summary>
    public virtual Tensor Forward(Tensor x) =>
        throw new NotSupportedException($"{GetType().Name} has no single-tensor Forward; call its own methods.");

    /// <summary>Runs <see cref="Forward"/>; the entry point containers and trainers use.</summary>
    public Tensor Call(Tensor x)
    {
        long start = OpProfiler.Enabled ? OpProfiler.Begin() : 0;
        BeginCall();
        try
        {
            var y = Forward(x);
            if (OpProfiler.Enabled) OpProfiler.End(start, "forward", this, this, static m => ((Module)m).Describe(), x.Shape);
            SummaryRecorder.Current?.Record(this, y);
            return RecordActivity(y);
        }
        finally { EndCall(); }
    }

    // ---- regularization (Keras's kernel / bias / activity regularizers and layer losses) ----

    private List<(Tensor Parameter, Regularizer Regularizer)>? _weightRegularizers;
    private Tensor? _activityLoss;
    [ThreadStatic] private static int t_callDepth;

    /// <summary>
    /// A penalty on this layer's output, added to the loss on every call (Keras's activity_regularizer: the penalty of
    /// the whole output, not divided by the batch size, as Keras 3).
    /// </summary>
    public Regularizer? ActivityRegularizer { get; set; }

    /// <summary>Adds <paramref name="regularizer"/>'s penalty on one of this module's own parameters to <see cref="RegularizationLoss"/>.</summary>
    public void AddWeightRegularizer(Tensor parameter, Regularizer regularizer)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        if (!_parameters.Any(p => ReferenceEquals(p.Tensor, parameter)))
            throw new ArgumentException($"{GetType().Name}: a weight regularizer needs one of this module's own registered parameters (shape {ShapeUtil.Format(parameter.Shape)} is not one).");
        (_weightRegularizers ??= []).Add((parameter, regularizer));
    }

    /// <summary>Registers a parameter and, when given, a penalty on it.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor, Regularizer? regularizer)
    {
        RegisterParameter(name, tensor);
        if (regularizer is not null) AddWeightRegularizer(tensor, regularizer);
        return tensor;
    }

    /// <summary>
    /// The sum of every weight penalty in this module and below it, plus the activity penalties of the last outermost
    /// <see cref="Call"/> (each outermost call starts them afresh, as Keras clears layer losses); null when there are none.
    /// The Trainer adds it to the loss during Fit and Evaluate.
    /// </summary>
    public Tensor? RegularizationLoss()
    {
        Tensor? total = null;
        AddRegularizationLosses(ref total);
        return total;
    }

    // Plain walks (no iterator objects): the trainer calls this in every step.
    private void AddRegularizationLosses(ref Tensor? total)
    {
        if (_weightRegularizers is not null)
            foreach (var (p, r) in _weightRegularizers) Accumulate(ref total, r.Penalty(p));
        if (_activityLoss is not null) Accumulate(ref total, _activityLoss);
        foreach (var (_, child) in _children) child.AddRegularizationLosses(ref total);
    }

    private static void Accumulate(ref Tensor? total, Tensor penalty) => total = total is null ? penalty : total + penalty;

    /// <summary>
    /// For layers with calls of their own (several inputs): marks the start of a call. The outermost call clears the
    /// activity penalties of the last one. Pair it with <see cref="EndCall"/> in a finally block.
    /// </summary>
    protected void BeginCall()
    {
        if (t_callDepth++ == 0) ClearActivityLosses();
    }

    /// <summary>The end of a call started with <see cref="BeginCall"/>.</summary>
    protected static void EndCall() => t_callDepth--;

    /// <summary>Adds the activity penalty on <paramref name="y"/>, when this layer has one; returns y.</summary>
    protected Tensor RecordActivity(Tensor y)
    {
        if (ActivityRegularizer is { } r) Accumulate(ref _activityLoss, r.Penalty(y));
        return y;
    }

    private void ClearActivityLosses()
    {
        _activityLoss = null;
        foreach (var (_, child) in _children) child.ClearActivityLosses();
    }

    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        CheckOutlivesScope(name, tensor);
        tensor.RequiresGrad = true;
        _parameters.Add((name, tensor));
        return tensor;
    }

    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        CheckName(name);
        CheckOutlivesScope(name, tensor);
        _buffers.Add((name, tensor));
        return tensor;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    /// <summary>A parameter or buffer made inside a <see cref="TensorScope"/> would be recycled with the step that made it.</summary>
    private void CheckOutlivesScope(string name, Tensor tensor)
    {
        if (tensor.ScopeOwner is not null)
            throw new InvalidOperationException($"{GetType().Name}: '{name}' was made inside a TensorScope and would be recycled when it ends; build modules outside scopes, or under TensorScope.Suspend().");
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid member name '{name}' (non-empty, no dots).");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: member '{name}' registered twice.");
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name))) yield return m;
    }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return (Join(prefix, name), p);
        foreach (var (name, child) in _children)
            foreach (var p in child.NamedParameters(Join(prefix, name))) yield return p;
    }

    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (Join(prefix, name), b);
        foreach (var (name, child) in _children)
            foreach (var b in child.NamedBuffers(Join(prefix, name))) yield return b;
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    /// <summary>Parameters and buffers: what a checkpoint stores.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateDict() => NamedParameters().Concat(NamedBuffers());

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    /// <summary>Training mode (dropout active, batch statistics) for this module and all below it.</summary>
    public Module Train(bool training = true)
    {
        // A plain walk over the children (no iterator objects): GAN steps switch modes every update.
        Training = training;
        foreach (var (_, child) in _children) child.Train(training);
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Zeroes every parameter's gradient in place (keeping the buffers for the next step).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in _parameters) p.Grad?.Zero();
        foreach (var (_, child) in _children) child.ZeroGrad();
    }

    /// <summary>Moves parameters and buffers to a device in place; gradients are dropped.</summary>
    public Module To(Device device)
    {
        using var _ = new NoGrad();
        foreach (var (_, t) in StateDict())
        {
            t.MoveStorage(device);
            t.Grad = null;
        }
        return this;
    }

    /// <summary>The device of the first parameter (else the first buffer); the CPU for a module with neither.</summary>
    public Device Device => (FirstTensor(buffers: false) ?? FirstTensor(buffers: true))?.Device ?? Device.Cpu;

    // Plain walks (no iterator objects): models read their device inside every step.
    private Tensor? FirstTensor(bool buffers)
    {
        var own = buffers ? _buffers : _parameters;
        if (own.Count > 0) return own[0].Tensor;
        foreach (var (_, child) in _children)
            if (child.FirstTensor(buffers) is { } t) return t;
        return null;
    }

    /// <summary>A short description of the layer for summaries, e.g. "Linear(2 -> 10, relu)".</summary>
    public virtual string Describe() => GetType().Name;

    /// <summary>A Keras-style table of layers, output shapes and parameter counts for one input shape (its ToString is plain text).</summary>
    public ModelSummary Summary(params int[] inputShape) => ModelSummary.Of(this, inputShape);

    public override string ToString() => Describe();
}
