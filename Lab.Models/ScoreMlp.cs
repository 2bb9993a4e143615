using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The score model of seed 001 exercise 9: Dense(2->32) -> softplus -> Dense(32->32) -> softplus -> Dense(32->2),
/// and Hyvärinen's implicit score-matching loss mean(|s(x)|² + 2 tr(ds/dx)).
/// </summary>
public sealed class ScoreMlp : Module
{
    private readonly Sequential _net;

    public ScoreMlp(Generator? generator = null, int dim = 2, int hidden = 32)
    {
        Dim = dim;
        _net = RegisterModule("net", new Sequential(
            new Linear(dim, hidden, Activation.Softplus, generator: generator),
            new Linear(hidden, hidden, Activation.Softplus, generator: generator),
            new Linear(hidden, dim, generator: generator)));
    }

    public int Dim { get; }

    public override Tensor Forward(Tensor x) => _net.Call(x);

    /// <summary>
    /// The exact loss: the trace of the input Jacobian is built column by column with createGraph, so the
    /// loss can then be differentiated with respect to the parameters (a second-order derivative).
    /// </summary>
    public Tensor ImplicitLoss(Tensor x)
    {
        var xi = x.Detach().RequireGrad();
        var s = Call(xi);
        Tensor? trace = null;
        for (int i = 0; i < Dim; i++)
        {
            var column = Autograd.Grad(s.Narrow(1, i, 1).Sum(), xi, createGraph: true)!;
            var diag = column.Narrow(1, i, 1);
            trace = trace is null ? diag : trace + diag;
        }
        return ((s * s).Sum(1, keepDim: true) + trace! * 2f).Mean();
    }

    /// <summary>
    /// Sliced score matching (Song et al. 2019): mean(vᵀ(ds/dx)v + (vᵀs)²/2) with one random projection v
    /// per sample; one extra backward pass instead of one per dimension.
    /// </summary>
    public Tensor SlicedLoss(Tensor x, Generator g)
    {
        var xi = x.Detach().RequireGrad();
        var s = Call(xi);
        var v = Tensor.RandN(g, xi.Shape, device: xi.Device);
        var vs = (s * v).Sum();
        var jv = Autograd.Grad(vs, xi, createGraph: true)!;
        var vjv = (jv * v).Sum(1);
        var proj = (s * v).Sum(1);
        return (vjv + proj * proj * 0.5f).Mean();
    }
}
