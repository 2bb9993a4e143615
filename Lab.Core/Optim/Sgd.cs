namespace Lab.Core.Optim;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay (PyTorch's form).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor[]? _velocity;

    public Sgd(IEnumerable<Tensor> parameters, float lr = 0.01f, float momentum = 0, bool nesterov = false, float weightDecay = 0)
        : base(parameters, lr)
    {
        if (!(momentum >= 0)) throw new ArgumentException($"Sgd: momentum must be non-negative, got {momentum}.");
        if (nesterov && momentum == 0) throw new ArgumentException("Sgd: Nesterov momentum needs momentum > 0.");
        (Momentum, Nesterov, WeightDecay) = (momentum, nesterov, weightDecay);
        if (momentum > 0) _velocity = ZerosFor(Parameters);
    }

    public float Momentum { get; }
    public bool Nesterov { get; }
    public float WeightDecay { get; }

    protected override void Update(int i, Tensor p, Tensor g)
        => p.Backend.SgdStep(p, g, _velocity?[i], LearningRate, Momentum, Nesterov, WeightDecay);

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        if (_velocity is null) yield break;
        for (int i = 0; i < _velocity.Length; i++) yield return ($"{i}.velocity", _velocity[i]);
    }
}

/// <summary>RMSprop (Keras's defaults: rho 0.9, eps 1e-7).</summary>
public sealed class RmsProp : Optimizer
{
    private readonly Tensor[] _square;
    private readonly Tensor[]? _momentum;

    public RmsProp(IEnumerable<Tensor> parameters, float lr = 1e-3f, float rho = 0.9f, float eps = 1e-7f, float momentum = 0, float weightDecay = 0)
        : base(parameters, lr)
    {
        if (!(rho is >= 0 and < 1)) throw new ArgumentException($"RmsProp: rho must be in [0, 1), got {rho}.");
        (Rho, Eps, Momentum, WeightDecay) = (rho, eps, momentum, weightDecay);
        _square = ZerosFor(Parameters);
        if (momentum > 0) _momentum = ZerosFor(Parameters);
    }

    public float Rho { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public float WeightDecay { get; }

    protected override void Update(int i, Tensor p, Tensor g)
        => p.Backend.RmsPropStep(p, g, _square[i], _momentum?[i], LearningRate, Rho, Eps, Momentum, WeightDecay);

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        for (int i = 0; i < _square.Length; i++)
        {
            yield return ($"{i}.square", _square[i]);
            if (_momentum is not null) yield return ($"{i}.momentum", _momentum[i]);
        }
    }
}
