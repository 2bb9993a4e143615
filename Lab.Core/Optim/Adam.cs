using Lab.Core.Backends;

namespace Lab.Core.Optim;

/// <summary>
/// Adam (Kingma and Ba). Defaults are Keras's (lr 1e-3, eps 1e-7, epsilon added to sqrt(v)); set
/// <see cref="PyTorchEpsilon"/> for torch.optim.Adam's form (eps 1e-8 added to the bias-corrected sqrt(v̂)).
/// With <see cref="AmsGrad"/> (Reddi et al. 2018), the running maximum of v replaces v in the denominator, as
/// torch.optim.Adam(amsgrad=True) and Keras's amsgrad do (the maximum is of the raw v; the bias correction stays).
/// </summary>
public class Adam : Optimizer
{
    private readonly Tensor[] _m, _v;
    private readonly Tensor[]? _maxV;

    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-7f, float weightDecay = 0, bool pytorchEpsilon = false, bool amsgrad = false) : base(parameters, lr)
    {
        if (!(beta1 is >= 0 and < 1) || !(beta2 is >= 0 and < 1)) throw new ArgumentException($"{GetType().Name}: betas must be in [0, 1), got {beta1}, {beta2}.");
        if (!(eps > 0)) throw new ArgumentException($"{GetType().Name}: eps must be positive, got {eps}.");
        (Beta1, Beta2, Eps, WeightDecay, PyTorchEpsilon, AmsGrad) = (beta1, beta2, eps, weightDecay, pytorchEpsilon, amsgrad);
        _m = ZerosFor(Parameters);
        _v = ZerosFor(Parameters);
        if (amsgrad) _maxV = ZerosFor(Parameters);
    }

    /// <summary>torch.optim.Adam's defaults: eps 1e-8 with PyTorch's epsilon placement.</summary>
    public static Adam PyTorch(IEnumerable<Tensor> parameters, float lr = 1e-3f) => new(parameters, lr, eps: 1e-8f, pytorchEpsilon: true);

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    public bool PyTorchEpsilon { get; }
    public bool AmsGrad { get; }
    protected virtual bool Decoupled => false;

    protected override void Update(int i, Tensor p, Tensor g)
    {
        double c1 = 1 - Math.Pow(Beta1, Steps), c2 = 1 - Math.Pow(Beta2, Steps);
        float step = (float)(LearningRate * Math.Sqrt(c2) / c1);
        float eps = PyTorchEpsilon ? (float)(Eps * Math.Sqrt(c2)) : Eps;
        var args = new AdamArgs(step, Beta1, Beta2, eps, WeightDecay, Decoupled, 1 - LearningRate * WeightDecay);
        p.Backend.AdamStep(p, g, _m[i], _v[i], _maxV?[i], args);
    }

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        for (int i = 0; i < _m.Length; i++)
        {
            yield return ($"{i}.m", _m[i]);
            yield return ($"{i}.v", _v[i]);
            if (_maxV is not null) yield return ($"{i}.maxV", _maxV[i]);
        }
    }
}

/// <summary>Adam with decoupled weight decay (Loshchilov and Hutter): p *= 1 - lr wd before the Adam step.</summary>
public sealed class AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
    float eps = 1e-8f, float weightDecay = 0.01f, bool amsgrad = false) : Adam(parameters, lr, beta1, beta2, eps, weightDecay, pytorchEpsilon: true, amsgrad)
{
    protected override bool Decoupled => true;
}
