using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// An exponential moving average of a model's parameters (Song and Ermon 2020, technique 5): sampling with
/// averaged weights removes most of the step-to-step jitter of a score network's last updates.
/// </summary>
public sealed class WeightAverage
{
    private readonly (Tensor Parameter, Tensor Shadow)[] _pairs;

    public WeightAverage(Module model, float decay)
    {
        Decay = decay;
        using var _ = new NoGrad();
        _pairs = model.Parameters().Select(p => (p, p.Detach().Clone())).ToArray();
    }

    public float Decay { get; }

    /// <summary>shadow ← decay · shadow + (1 - decay) · parameter, after each optimizer step.</summary>
    public void Update()
    {
        using var _ = new NoGrad();
        foreach (var (p, s) in _pairs) s.AddInPlace(p - s, 1 - Decay);
    }

    /// <summary>Writes the averaged weights into the model.</summary>
    public void CopyToModel()
    {
        using var _ = new NoGrad();
        foreach (var (p, s) in _pairs) p.CopyFrom(s);
    }
}
