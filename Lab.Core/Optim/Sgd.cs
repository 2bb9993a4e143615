namespace Lab.Core.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, as
/// torch.optim.SGD: g += wd p; buf = momentum buf + (1 - dampening) g, except on the first step, which sets buf = g
/// (the optimizer's step count decides, as for Adam's bias correction); p -= lr (nesterov ? g + momentum buf : buf).
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor[]? _velocity;

    public Sgd(IEnumerable<Tensor> parameters, float lr = 0.01f, float momentum = 0, bool nesterov = false, float weightDecay = 0, float dampening = 0)
        : base(parameters, lr)
    {
        if (!(momentum >= 0)) throw new ArgumentException($"Sgd: momentum must be non-negative, got {momentum}.");
        if (!(dampening is >= 0 and <= 1)) throw new ArgumentException($"Sgd: dampening must be in [0, 1], got {dampening}.");
        if (nesterov && (momentum == 0 || dampening != 0))
            throw new ArgumentException($"Sgd: Nesterov momentum needs momentum > 0 and zero dampening, got momentum {momentum}, dampening {dampening}.");
        (Momentum, Nesterov, WeightDecay, Dampening) = (momentum, nesterov, weightDecay, dampening);
        if (momentum > 0) _velocity = ZerosFor(Parameters);
    }

    public float Momentum { get; }
    public bool Nesterov { get; }
    public float WeightDecay { get; }
    public float Dampening { get; }

    protected override void Update(int i, Tensor p, Tensor g)
        => p.Backend.SgdStep(p, g, _velocity?[i], LearningRate, Momentum, Steps == 1 ? 1f : 1f - Dampening, Nesterov, WeightDecay);

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        if (_velocity is null) yield break;
        for (int i = 0; i < _velocity.Length; i++) yield return ($"{i}.velocity", _velocity[i]);
    }
}

/// <summary>
/// RMSprop (Keras's defaults: rho 0.9, eps 1e-7), as torch.optim.RMSprop with alpha = rho: s = rho s + (1 - rho) g²;
/// p -= lr g / (sqrt(s) + eps), through a momentum buffer when momentum &gt; 0. <c>centered</c> (Graves 2013) also
/// keeps the mean gradient a = rho a + (1 - rho) g and divides by sqrt(s - a²) + eps, the gradient's standard deviation.
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly Tensor[] _square;
    private readonly Tensor[]? _momentum, _gradAverage;

    public RmsProp(IEnumerable<Tensor> parameters, float lr = 1e-3f, float rho = 0.9f, float eps = 1e-7f, float momentum = 0, float weightDecay = 0,
        bool centered = false)
        : base(parameters, lr)
    {
        if (!(rho is >= 0 and < 1)) throw new ArgumentException($"RmsProp: rho must be in [0, 1), got {rho}.");
        if (!(momentum >= 0)) throw new ArgumentException($"RmsProp: momentum must be non-negative, got {momentum}.");
        (Rho, Eps, Momentum, WeightDecay, Centered) = (rho, eps, momentum, weightDecay, centered);
        _square = ZerosFor(Parameters);
        if (momentum > 0) _momentum = ZerosFor(Parameters);
        if (centered) _gradAverage = ZerosFor(Parameters);
    }

    public float Rho { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public float WeightDecay { get; }
    public bool Centered { get; }

    protected override void Update(int i, Tensor p, Tensor g)
        => p.Backend.RmsPropStep(p, g, _square[i], _gradAverage?[i], _momentum?[i], LearningRate, Rho, Eps, Momentum, WeightDecay);

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        for (int i = 0; i < _square.Length; i++)
        {
            yield return ($"{i}.square", _square[i]);
            if (_gradAverage is not null) yield return ($"{i}.gradAverage", _gradAverage[i]);
            if (_momentum is not null) yield return ($"{i}.momentum", _momentum[i]);
        }
    }
}
