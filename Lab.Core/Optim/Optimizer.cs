using Lab.Core.Autodiff;

namespace Lab.Core.Optim;

/// <summary>
/// Updates a set of tensors from their gradients. Any leaf tensor that requires gradients can be
/// optimised: model parameters, or an input image (the adversarial attack). State tensors are created
/// with the optimiser, so a checkpoint can hold them from the start.
/// </summary>
public abstract class Optimizer
{
    private readonly Tensor[] _parameters;

    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException($"{GetType().Name}: no tensors to optimise.");
        for (int i = 0; i < _parameters.Length; i++)
            if (!_parameters[i].IsLeaf || !_parameters[i].RequiresGrad)
                throw new ArgumentException($"{GetType().Name}: tensor {i} (shape {ShapeUtil.Format(_parameters[i].Shape)}) must be a leaf that requires grad.");
        if (!(learningRate >= 0)) throw new ArgumentException($"{GetType().Name}: learning rate must be non-negative, got {learningRate}.");
        LearningRate = learningRate;
        InitialLearningRate = learningRate;
    }

    public IReadOnlyList<Tensor> Parameters => _parameters;
    public float LearningRate { get; set; }
    public float InitialLearningRate { get; }
    /// <summary>Updates done so far (Adam's bias correction counts them).</summary>
    public long Steps { get; set; }
    /// <summary>When set, gradients are scaled together so that their global L2 norm is at most this.</summary>
    public float? ClipNorm { get; set; }
    /// <summary>The global gradient norm seen by the last step (before clipping), when clipping is on.</summary>
    public float LastGradNorm { get; private set; }

    /// <summary>
    /// Runs at the start of every <see cref="Step"/>, before clipping: data parallelism replaces the gradients by their
    /// average over the ranks here (<see cref="Distributed.DataParallel.Attach"/>), so clipping sees the global norm.
    /// </summary>
    public Action? BeforeStep { get; set; }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.Grad?.Zero();
    }

    /// <summary>
    /// Applies one update. Inside a traced step it is a host action (<see cref="Tracing.Trace.Host"/>): every replay runs
    /// it again, with the live step count, learning rate and gradient norm.
    /// </summary>
    public void Step()
    {
        if (Tracing.Trace.IsRecording) Tracing.Trace.Host(_hostLabel ??= GetType().Name + ".Step", _hostStep ??= StepNow);
        else StepNow();
    }

    private Action? _hostStep;
    private string? _hostLabel;

    private void StepNow()
    {
        using var _ = new NoGrad();
        BeforeStep?.Invoke();
        if (ClipNorm is float max) Clip(max);
        Steps++;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is null) continue;
            Update(i, p, p.Grad);
        }
    }

    private readonly Dictionary<Device, Tensor> _normAccumulators = [];

    private void Clip(float max)
    {
        double total = 0;
        foreach (var p in _parameters)
        {
            if (p.Grad is null) continue;
            if (!_normAccumulators.TryGetValue(p.Device, out var acc))
                using (TensorScope.Suspend()) _normAccumulators[p.Device] = acc = Tensor.Zeros([1], p.Device);   // kept across steps
            p.Backend.SumOfSquares(p.Grad, acc);
            total += acc.Item();
        }
        LastGradNorm = (float)Math.Sqrt(total);
        if (LastGradNorm > max && LastGradNorm > 0)
        {
            float scale = max / LastGradNorm;
            foreach (var p in _parameters)
                if (p.Grad is not null) p.Grad.Backend.Unary(Backends.UnaryOp.Affine, p.Grad, p.Grad, scale, 0);
        }
    }

    protected abstract void Update(int index, Tensor parameter, Tensor grad);

    /// <summary>Named state tensors ("3.m" is parameter 3's first moment) for checkpoints.</summary>
    public abstract IEnumerable<(string Name, Tensor Tensor)> State();

    protected static Tensor[] ZerosFor(IReadOnlyList<Tensor> ps) => ps.Select(p => Tensor.Zeros(p.ShapeArray(), p.Device)).ToArray();
}
