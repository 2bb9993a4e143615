using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// Regressions of issue 12 for Conv2d and ConvTranspose2d, each against the double reference of <see cref="R"/>:
/// the input gradient with unequal height and width padding, and Hessian-vector products with respect to the
/// weight and bias (which were constants under createGraph).
/// </summary>
public class ConvTests
{
    private static Tensor Draw(ulong seed, params int[] shape) => Tensor.RandN(new Generator(seed), shape);

    /// <summary>Conv2d with a stride, a padding that differs between height and width, and a kernel.</summary>
    public static TheoryData<int, int, int, int, int, bool> UnequalPaddings => new()
    {
        // stride, pad h, pad w, kernel h, kernel w, "same"
        { 3, 1, 0, 3, 3, false },  // the issue's case: a wrong input gradient
        { 1, 0, 2, 3, 3, false },  // the backward threw
        { 2, 2, 1, 3, 2, false },
        { 1, 1, 2, 3, 5, true },   // "same" with a non-square kernel: the backward threw
    };

    [Theory]
    [MemberData(nameof(UnequalPaddings))]
    public void Conv2d_InputGradientWithUnequalPadding_MatchesFiniteDifferences(int stride, int ph, int pw, int r, int s, bool same)
    {
        var x = Draw(1, 2, 2, 7, 6).RequireGrad();
        var w = Draw(2, 3, 2, r, s).RequireGrad();
        var b = Draw(3, 3).RequireGrad();
        var y = same
            ? Tensor.Conv2d(x, w, b, 1, Padding.SameSize)
            : Tensor.Conv2d(x, w, b, stride, new Padding(ph, pw));
        var v = Draw(4, y.ShapeArray());
        var grads = Autograd.Grad([(y * v).Sum()], [x, w, b]);

        var rv = R.Of(v);
        double Loss(R[] t) => R.Conv2d(t[0], t[1], t[2], (stride, stride), (ph, pw, ph, pw)).Data.Zip(rv.Data, (a, c) => a * c).Sum();
        R[] refs = [R.Of(x), R.Of(w), R.Of(b)];
        Assert.Equal(R.Conv2d(refs[0], refs[1], refs[2], (stride, stride), (ph, pw, ph, pw)).Shape, y.ShapeArray());
        for (int i = 0; i < 3; i++)
            Numeric.AssertClose(Numeric.Gradient(Loss, refs, i, 1e-6), grads[i]!.ToArray(), 1e-4, $"d/dinput{i}");
    }

    /// <summary>
    /// H u for the loss sum(tanh(op(x, w, b)) v) with respect to (w, b), through createGraph, against central
    /// differences of the reference gradient along u: (∇L(θ + h u) - ∇L(θ - h u)) / 2h.
    /// </summary>
    private static void CheckWeightAndBiasHvp(Tensor x, Tensor w, Tensor b, Func<Tensor, Tensor, Tensor, Tensor> op, Func<R, R, R, R> reference)
    {
        w.RequireGrad();
        b.RequireGrad();
        var y = op(x, w, b);
        var v = Draw(20, y.ShapeArray());
        var loss = (y.Tanh() * v).Sum();
        var g = Autograd.Grad([loss], [w, b], createGraph: true);
        Tensor[] u = [Draw(21, w.ShapeArray()), Draw(22, b.ShapeArray())];
        var directional = (g[0]! * u[0]).Sum() + (g[1]! * u[1]).Sum();
        Assert.True(directional.RequiresGrad, "the weight and bias gradients were not recorded under createGraph");
        var hvp = Autograd.Grad([directional], [w, b]);

        var rx = R.Of(x);
        var rv = R.Of(v);
        double Loss(R[] t) => reference(rx, t[0], t[1]).Data.Select(Math.Tanh).Zip(rv.Data, (a, c) => a * c).Sum();
        R[] Shifted(double h) => [Along(w, u[0], h), Along(b, u[1], h)];
        const double step = 1e-4;
        for (int k = 0; k < 2; k++)
        {
            var plus = Numeric.Gradient(Loss, Shifted(step), k, 1e-6);
            var minus = Numeric.Gradient(Loss, Shifted(-step), k, 1e-6);
            var expected = plus.Zip(minus, (p, m) => (p - m) / (2 * step)).ToArray();
            Numeric.AssertClose(expected, hvp[k]!.ToArray(), 2e-3, k == 0 ? "H u, weight part" : "H u, bias part");
        }
    }

    /// <summary>p + h d in double precision.</summary>
    private static R Along(Tensor p, Tensor d, double h)
    {
        var (rp, rd) = (R.Of(p), R.Of(d));
        return rp.With(rp.Data.Zip(rd.Data, (a, c) => a + h * c).ToArray());
    }

    [Fact]
    public void Conv2d_HessianVectorProductInWeightAndBias_MatchesFiniteDifferencesOfTheGradient() =>
        CheckWeightAndBiasHvp(Draw(5, 2, 3, 6, 5), Draw(6, 4, 3, 3, 3), Draw(7, 4),
            (x, w, b) => Tensor.Conv2d(x, w, b, 2, 1),
            (x, w, b) => R.Conv2d(x, w, b, 2, 1));

    [Fact]
    public void ConvTranspose2d_HessianVectorProductInWeightAndBias_MatchesFiniteDifferencesOfTheGradient() =>
        CheckWeightAndBiasHvp(Draw(8, 2, 3, 3, 4), Draw(9, 3, 2, 3, 3), Draw(10, 2),
            (x, w, b) => Tensor.ConvTranspose2d(x, w, b, 2, 1, outputPadding: 1),
            (x, w, b) => R.ConvTranspose2d(x, w, b, 2, 1, 1));

    /// <summary>
    /// A small conv net made of the layers (grouped "same" conv, strided dilated conv, transposed conv, dense): H u of
    /// its loss with respect to every parameter, through createGraph, against central differences of its gradient
    /// along u (in float32, so a looser bound; the bug gave errors up to 36 on values 0.5-23).
    /// </summary>
    [Fact]
    public void SmallConvNet_HessianVectorProductInEveryParameter_MatchesFiniteDifferencesOfTheGradient()
    {
        var model = new Sequential(
            new Conv2d(2, 4, (3, 2), padding: Padding.SameSize, groups: 2, activation: Activation.Tanh, init: InitStyle.PyTorch, generator: new Generator(1)),
            new Conv2d(4, 4, 3, stride: (2, 1), padding: (1, 0), dilation: (1, 2), activation: Activation.Tanh, init: InitStyle.PyTorch, generator: new Generator(2)),
            new ConvTranspose2d(4, 2, 2, stride: 2, activation: Activation.Tanh, init: InitStyle.PyTorch, generator: new Generator(3)),
            new Flatten(),
            new Linear(2 * 6 * 6, 3, generator: new Generator(4)));
        var x = Draw(30, 2, 2, 6, 7);
        var v = Draw(31, 2, 3);
        var ps = model.Parameters().ToArray();
        Tensor Loss() => (model.Call(x).Tanh() * v).Sum();

        var g = Autograd.Grad([Loss()], ps, createGraph: true);
        var us = ps.Select((p, i) => Draw(40 + (ulong)i, p.ShapeArray())).ToArray();
        var directional = (g[0]! * us[0]).Sum();
        for (int i = 1; i < ps.Length; i++) directional = directional + (g[i]! * us[i]).Sum();
        var hvp = Autograd.Grad([directional], ps);

        var start = ps.Select(p => p.ToArray()).ToArray();
        float[][] GradientAt(float h)
        {
            using (new NoGrad())
                for (int i = 0; i < ps.Length; i++)
                    ps[i].CopyFrom(start[i].Zip(us[i].ToArray(), (p, d) => p + h * d).ToArray());
            return Autograd.Grad([Loss()], ps).Select(t => t!.ToArray()).ToArray();
        }
        const float step = 2e-3f;
        var (plus, minus) = (GradientAt(step), GradientAt(-step));
        for (int i = 0; i < ps.Length; i++)
        {
            var expected = plus[i].Zip(minus[i], (a, b) => ((double)a - b) / (2 * step)).ToArray();
            Numeric.AssertClose(expected, hvp[i]!.ToArray(), 2e-3, $"H u, parameter {i} {ShapeUtil.Format(ps[i].Shape)}");
        }
    }
}
