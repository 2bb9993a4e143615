using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Autodiff;

/// <summary>
/// Second order through whole layers: a Hessian-vector product of a small CNN's loss with respect to all of its
/// parameters (conv, batch norm, pooling, dense), and a WGAN-GP style gradient penalty through a conv + pool critic,
/// each against central differences of the first-order quantity.
/// </summary>
public class LayerHessianTests
{
    private static Sequential SmallCnn(bool maxPool, Generator g) => new(
        // No bias before batch norm: the loss does not depend on it, so its gradient is zero by design.
        new Conv2d(2, 3, 3, padding: 1, bias: false, generator: g),
        new BatchNorm2d(3),
        new Tanh(),
        maxPool ? new MaxPool2d(2) : new AvgPool2d(2),
        new Conv2d(3, 4, 2, generator: g),
        new Softplus(),
        new Flatten(),
        new Linear(4 * 2 * 2, 3, generator: g));

    private static float[] Flat(IEnumerable<Tensor?> tensors) => tensors.SelectMany(t => t!.ToArray()).ToArray();

    private static void Set(Tensor parameter, float[] values)
    {
        using (new NoGrad()) parameter.CopyFrom(values);
    }

    private static void Perturb(Tensor[] parameters, float[] direction, float scale)
    {
        int at = 0;
        foreach (var p in parameters)
        {
            var v = p.ToArray();
            for (int i = 0; i < v.Length; i++) v[i] += scale * direction[at + i];
            at += v.Length;
            Set(p, v);
        }
    }

    /// <summary>|numeric - analytic| relative to the size of the vectors: element-wise checks are too strict in float32.</summary>
    private static void AssertCloseInNorm(float[] numeric, float[] analytic, double tol, string what)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < numeric.Length; i++)
        {
            diff += Math.Pow(numeric[i] - analytic[i], 2);
            norm += Math.Pow(numeric[i], 2);
        }
        Assert.True(norm > 1e-6, $"{what}: the reference is zero, so the check would prove nothing.");
        Assert.True(Math.Sqrt(diff / norm) <= tol, $"{what}: relative error {Math.Sqrt(diff / norm):E2} > {tol:E0} (|reference| = {Math.Sqrt(norm):G4}).");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HessianVectorProductOfACnnLossMatchesFiniteDifferencesOfItsGradient(bool maxPool)
    {
        var g = new Generator(3);
        var model = SmallCnn(maxPool, g);
        var parameters = model.Parameters().ToArray();
        var x = Tensor.RandN(g, [3, 2, 6, 6]);
        var labels = Tensor.FromArray(0f, 2f, 1f);
        Tensor Loss() => Losses.CrossEntropy(model.Call(x), labels);
        float[] Gradient() => Flat(Autograd.Grad([Loss()], parameters, materializeUnused: true));

        var direction = Tensor.RandN(new Generator(5), [parameters.Sum(p => p.Numel)]).ToArray();
        var grads = Autograd.Grad([Loss()], parameters, createGraph: true, materializeUnused: true);
        Tensor dot = Tensor.Scalar(0f);
        int at = 0;
        foreach (var (p, gp) in parameters.Zip(grads))
        {
            var v = Tensor.FromArray(direction.AsSpan(at, p.Numel), p.Shape);
            dot = dot + (gp! * v).Sum();
            at += p.Numel;
        }
        var hvp = Flat(Autograd.Grad([dot], parameters, materializeUnused: true));

        // Small enough that no pooling window changes its maximum between the two evaluations.
        const float h = 1e-4f;
        Perturb(parameters, direction, h);
        var plus = Gradient();
        Perturb(parameters, direction, -2 * h);
        var minus = Gradient();
        Perturb(parameters, direction, h);
        var numeric = plus.Zip(minus, (a, b) => (a - b) / (2 * h)).ToArray();
        AssertCloseInNorm(numeric, hvp, 2e-2, $"HVP through conv, batch norm, {(maxPool ? "max" : "average")} pooling and dense");

        // Every layer's parameters take part: a per-layer zero would hide behind the others in the norm.
        at = 0;
        foreach (var (name, p) in model.NamedParameters())
        {
            var part = hvp.AsSpan(at, p.Numel).ToArray();
            Assert.True(part.Any(v => Math.Abs(v) > 1e-5), $"HVP is zero for {name}");
            at += p.Numel;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientPenaltyThroughAConvPoolCriticReachesEveryParameter(bool maxPool)
    {
        var g = new Generator(8);
        var critic = new Sequential(
            new Conv2d(1, 3, 3, padding: 1, generator: g),
            // Smooth activations: a kink moves the input gradient, and so the penalty, in jumps that
            // central differences cannot follow.
            new Softplus(),
            maxPool ? new MaxPool2d(2) : new AvgPool2d(2),
            new Conv2d(3, 2, 3, padding: 1, generator: g),
            new Tanh(),
            new Flatten(),
            new Linear(2 * 3 * 3, 1, generator: g));
        var parameters = critic.Parameters().ToArray();
        var x = Tensor.RandN(g, [2, 1, 6, 6]);
        Tensor Penalty()
        {
            var xi = x.Detach().RequireGrad();
            var dx = Autograd.Grad([critic.Call(xi).Sum()], [xi], createGraph: true)[0]!;
            var norm = (dx.Square().Sum([1, 2, 3]) + 1e-12f).Sqrt();
            return (norm - 1f).Square().Mean();
        }

        var analytic = Flat(Autograd.Grad([Penalty()], parameters, materializeUnused: true));
        var numeric = new float[analytic.Length];
        const float h = 2e-3f;
        int at = 0;
        foreach (var p in parameters)
        {
            var v = p.ToArray();
            for (int i = 0; i < v.Length; i++)
            {
                float saved = v[i];
                v[i] = saved + h; Set(p, v); float fp = Penalty().Item();
                v[i] = saved - h; Set(p, v); float fm = Penalty().Item();
                v[i] = saved; Set(p, v);
                numeric[at + i] = (fp - fm) / (2 * h);
            }
            at += v.Length;
        }
        AssertCloseInNorm(numeric, analytic, 3e-2, $"gradient penalty through a {(maxPool ? "max" : "average")}-pool critic");
        at = 0;
        foreach (var (name, p) in critic.NamedParameters())
        {
            // The output bias shifts the score, not its input gradient: its penalty gradient is zero by design.
            if (p == critic.Parameters().Last()) continue;
            Assert.True(analytic.AsSpan(at, p.Numel).ToArray().Any(v => Math.Abs(v) > 1e-6), $"penalty gradient is zero for {name}");
            at += p.Numel;
        }
    }
}
