using Lab.Core.Optim;

namespace Lab.Core.Tests.Training;

/// <summary>First steps of each optimizer against the closed-form updates computed here in double precision.</summary>
public class OptimizerTests
{
    private static readonly float[] Start = [0.5f, -1.5f, 2f];
    private static readonly float[][] Grads = [[0.1f, -0.2f, 0.3f], [0.05f, 0.1f, -0.4f], [-0.3f, 0.2f, 0.1f]];

    private static float[] Run(Func<Tensor, Optimizer> make)
    {
        var p = Tensor.FromArray(Start).RequireGrad();
        var opt = make(p);
        foreach (var g in Grads)
        {
            p.Grad = Tensor.FromArray(g);
            opt.Step();
        }
        return p.ToArray();
    }

    [Fact]
    public void AdamKerasForm()
    {
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        var p = Start.Select(v => (double)v).ToArray();
        var m = new double[3]; var v2 = new double[3];
        for (int t = 1; t <= 3; t++)
        {
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                m[i] = b1 * m[i] + (1 - b1) * g; v2[i] = b2 * v2[i] + (1 - b2) * g * g;
                p[i] -= alpha * m[i] / (Math.Sqrt(v2[i]) + eps);
            }
        }
        Numeric.AssertClose(p, Run(t => new Adam([t], lr: 0.01f)), 1e-6, "Adam");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(65)]
    public void AdamVectorAndTailMatchTheKerasFormAtEverySize(int n)
    {
        // Sizes that run the vectorised body, the scalar tail, or both.
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        var gen = new Generator((ulong)n);
        var start = Tensor.RandN(gen, [n]).ToArray();
        var grads = Enumerable.Range(0, 3).Select(_ => Tensor.RandN(gen, [n]).ToArray()).ToArray();
        var p = start.Select(v => (double)v).ToArray();
        var m = new double[n]; var v2 = new double[n];
        for (int t = 1; t <= 3; t++)
        {
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            for (int i = 0; i < n; i++)
            {
                double g = grads[t - 1][i];
                m[i] = b1 * m[i] + (1 - b1) * g; v2[i] = b2 * v2[i] + (1 - b2) * g * g;
                p[i] -= alpha * m[i] / (Math.Sqrt(v2[i]) + eps);
            }
        }
        var param = Tensor.FromArray(start, [n]).RequireGrad();
        var adam = new Adam([param], lr: 0.01f);
        for (int t = 0; t < 3; t++)
        {
            param.Grad = Tensor.FromArray(grads[t], [n]);
            adam.Step();
        }
        Numeric.AssertClose(p, param.ToArray(), 1e-5, "Adam");
    }

    [Fact]
    public void AdamPyTorchForm()
    {
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var p = Start.Select(v => (double)v).ToArray();
        var m = new double[3]; var v2 = new double[3];
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                m[i] = b1 * m[i] + (1 - b1) * g; v2[i] = b2 * v2[i] + (1 - b2) * g * g;
                double mh = m[i] / (1 - Math.Pow(b1, t)), vh = v2[i] / (1 - Math.Pow(b2, t));
                p[i] -= lr * mh / (Math.Sqrt(vh) + eps);
            }
        Numeric.AssertClose(p, Run(t => Adam.PyTorch([t], lr: 0.01f)), 1e-6, "Adam (PyTorch)");
    }

    [Fact]
    public void AdamWDecaysDecoupled()
    {
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        var p = Start.Select(v => (double)v).ToArray();
        var m = new double[3]; var v2 = new double[3];
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g; v2[i] = b2 * v2[i] + (1 - b2) * g * g;
                p[i] -= lr * (m[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(v2[i] / (1 - Math.Pow(b2, t))) + eps);
            }
        Numeric.AssertClose(p, Run(t => new AdamW([t], lr: 0.01f, weightDecay: 0.1f)), 1e-6, "AdamW");
    }

    [Theory]
    [InlineData(0f, false, 0f)]
    [InlineData(0.9f, false, 0f)]
    [InlineData(0.9f, true, 0f)]
    [InlineData(0.5f, false, 0.01f)]
    public void SgdVariants(float momentum, bool nesterov, float wd)
    {
        double lr = 0.1;
        var p = Start.Select(v => (double)v).ToArray();
        var buf = new double[3];
        foreach (var gs in Grads)
            for (int i = 0; i < 3; i++)
            {
                double g = gs[i] + wd * p[i];
                buf[i] = momentum * buf[i] + g;
                p[i] -= lr * (momentum == 0 ? g : nesterov ? g + momentum * buf[i] : buf[i]);
            }
        Numeric.AssertClose(p, Run(t => new Sgd([t], 0.1f, momentum, nesterov, wd)), 1e-6, "SGD");
    }

    [Fact]
    public void RmsPropKerasForm()
    {
        double lr = 0.01, rho = 0.9, eps = 1e-7;
        var p = Start.Select(v => (double)v).ToArray();
        var s = new double[3];
        foreach (var gs in Grads)
            for (int i = 0; i < 3; i++)
            {
                s[i] = rho * s[i] + (1 - rho) * gs[i] * gs[i];
                p[i] -= lr * gs[i] / (Math.Sqrt(s[i]) + eps);
            }
        Numeric.AssertClose(p, Run(t => new RmsProp([t], 0.01f)), 1e-6, "RMSprop");
    }

    [Fact]
    public void ClipNormScalesAllGradientsTogether()
    {
        var a = Tensor.FromArray(0f, 0f).RequireGrad();
        var b = Tensor.FromArray(0f).RequireGrad();
        var opt = new Sgd([a, b], 1f) { ClipNorm = 1f };
        a.Grad = Tensor.FromArray(3f, 0f);
        b.Grad = Tensor.FromArray(4f);
        opt.Step();
        Assert.Equal(5f, opt.LastGradNorm, 5);
        Assert.Equal([-0.6f, 0f], a.ToArray());
        Assert.Equal(-0.8f, b.ToArray()[0], 6);
    }

    [Fact]
    public void SchedulesFollowTheirFormulas()
    {
        Assert.Equal(0.025f, new StepDecay(2, 0.5f).At(4, 0.1f), 6);
        Assert.Equal(0.1f * MathF.Pow(0.9f, 3), new ExponentialDecay(0.9f).At(3, 0.1f), 6);
        Assert.Equal(0.05f, new CosineDecay(10).At(5, 0.1f), 6);
        Assert.Equal(0f, new CosineDecay(10).At(10, 0.1f), 6);
        Assert.Equal(0.05f, new Warmup(2).At(0, 0.1f), 6);
        Assert.Equal(0.1f, new Warmup(2).At(5, 0.1f), 6);
    }

    [Fact]
    public void OptimizerRejectsNonLeafTensors()
    {
        var x = Tensor.Ones(2).RequireGrad();
        var ex = Assert.Throws<ArgumentException>(() => new Adam([x * 2f]));
        Assert.Contains("leaf", ex.Message);
    }

    // ---- PyTorch's documented algorithms (torch.optim.SGD, Adam, AdamW, RMSprop), in double precision ----

    private const int ReferenceSteps = 6;

    /// <summary>A random start and gradients that shrink after the first steps (so AMSGrad's maximum matters).</summary>
    private static (float[] Start, float[][] Grads) Problem(int n)
    {
        var gen = new Generator(1000 + (ulong)n);
        var start = Tensor.RandN(gen, [n]).ToArray();
        var grads = Enumerable.Range(0, ReferenceSteps)
            .Select(t => Tensor.RandN(gen, [n]).ToArray().Select(v => v * (t < 2 ? 2f : 0.3f)).ToArray()).ToArray();
        return (start, grads);
    }

    private static float[] RunSteps(Func<Tensor, Optimizer> make, float[] start, float[][] grads)
    {
        var p = Tensor.FromArray(start, [start.Length]).RequireGrad();
        var opt = make(p);
        foreach (var g in grads)
        {
            p.Grad = Tensor.FromArray(g, [g.Length]);
            opt.Step();
        }
        return p.ToArray();
    }

    private static double[] SgdReference(float[] start, float[][] grads, double lr, double momentum, double dampening, bool nesterov, double wd)
    {
        var p = start.Select(v => (double)v).ToArray();
        var buf = new double[p.Length];
        for (int t = 1; t <= grads.Length; t++)
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i] + wd * p[i];
                if (momentum != 0)
                {
                    buf[i] = t == 1 ? g : momentum * buf[i] + (1 - dampening) * g;
                    g = nesterov ? g + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * g;
            }
        return p;
    }

    private static double[] AdamReference(float[] start, float[][] grads, double lr, double b1, double b2, double eps, double wd,
        bool amsgrad, bool pytorchEpsilon, bool decoupled)
    {
        var p = start.Select(v => (double)v).ToArray();
        var m = new double[p.Length]; var v = new double[p.Length]; var vmax = new double[p.Length];
        for (int t = 1; t <= grads.Length; t++)
        {
            double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) p[i] *= 1 - lr * wd;
                else g += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                vmax[i] = Math.Max(vmax[i], v[i]);
                double second = amsgrad ? vmax[i] : v[i];
                p[i] -= pytorchEpsilon
                    ? lr / c1 * m[i] / (Math.Sqrt(second) / Math.Sqrt(c2) + eps)
                    : lr * Math.Sqrt(c2) / c1 * m[i] / (Math.Sqrt(second) + eps);
            }
        }
        return p;
    }

    private static double[] RmsPropReference(float[] start, float[][] grads, double lr, double alpha, double eps, double momentum, double wd, bool centered)
    {
        var p = start.Select(v => (double)v).ToArray();
        var sq = new double[p.Length]; var ga = new double[p.Length]; var buf = new double[p.Length];
        foreach (var gs in grads)
            for (int i = 0; i < p.Length; i++)
            {
                double g = gs[i] + wd * p[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
                double avg;
                if (centered)
                {
                    ga[i] += (1 - alpha) * (g - ga[i]);   // torch's lerp
                    avg = Math.Sqrt(sq[i] - ga[i] * ga[i]) + eps;
                }
                else avg = Math.Sqrt(sq[i]) + eps;
                if (momentum > 0) { buf[i] = momentum * buf[i] + g / avg; p[i] -= lr * buf[i]; }
                else p[i] -= lr * g / avg;
            }
        return p;
    }

    /// <summary>Sizes that run the vectorised body, the scalar tail, or both.</summary>
    public static TheoryData<int> Sizes => [1, 7, 8, 17, 65];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SgdDampeningFollowsPyTorch(int n)
    {
        var (start, grads) = Problem(n);
        foreach (var (mu, d, wd) in new[] { (0.9, 0.5, 0.0), (0.8, 0.1, 0.01), (0.9, 1.0, 0.0) })
        {
            var expected = SgdReference(start, grads, 0.1, mu, d, false, wd);
            var undamped = SgdReference(start, grads, 0.1, mu, 0, false, wd);
            Assert.True(expected.Zip(undamped).Max(e => Math.Abs(e.First - e.Second)) > 1e-3, "the case must exercise dampening");
            Numeric.AssertClose(expected, RunSteps(p => new Sgd([p], 0.1f, (float)mu, weightDecay: (float)wd, dampening: (float)d), start, grads), 1e-5,
                $"SGD momentum {mu} dampening {d} wd {wd}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SgdNesterovAndWeightDecayFollowPyTorch(int n)
    {
        var (start, grads) = Problem(n);
        Numeric.AssertClose(SgdReference(start, grads, 0.05, 0.9, 0, true, 0.1),
            RunSteps(p => new Sgd([p], 0.05f, 0.9f, nesterov: true, weightDecay: 0.1f), start, grads), 1e-5, "SGD Nesterov");
    }

    [Fact]
    public void SgdRejectsNesterovWithDampeningLikePyTorch()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Ones(2).RequireGrad()], 0.1f, 0.9f, nesterov: true, dampening: 0.1f));
        Assert.Contains("zero dampening", ex.Message);
        Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Ones(2).RequireGrad()], 0.1f, 0.9f, dampening: 1.5f));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AmsGradFollowsPyTorchAndKeras(int n)
    {
        var (start, grads) = Problem(n);
        // beta2 0.9: v forgets the large early gradients within the six steps, its maximum does not.
        var plain = AdamReference(start, grads, 0.01, 0.9, 0.9, 1e-8, 0, false, true, false);
        var torch = AdamReference(start, grads, 0.01, 0.9, 0.9, 1e-8, 0, true, true, false);
        Assert.True(torch.Zip(plain).Max(e => Math.Abs(e.First - e.Second)) > 1e-3, "the case must exercise the running maximum");
        Numeric.AssertClose(torch, RunSteps(p => new Adam([p], 0.01f, beta2: 0.9f, eps: 1e-8f, pytorchEpsilon: true, amsgrad: true), start, grads), 1e-5, "Adam amsgrad (PyTorch)");
        Numeric.AssertClose(AdamReference(start, grads, 0.01, 0.9, 0.99, 1e-7, 0.05, true, false, false),
            RunSteps(p => new Adam([p], 0.01f, beta2: 0.99f, weightDecay: 0.05f, amsgrad: true), start, grads), 1e-5, "Adam amsgrad (Keras epsilon, L2)");
        Numeric.AssertClose(AdamReference(start, grads, 0.01, 0.9, 0.999, 1e-8, 0.1, true, true, true),
            RunSteps(p => new AdamW([p], 0.01f, weightDecay: 0.1f, amsgrad: true), start, grads), 1e-5, "AdamW amsgrad");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RmsPropCenteredAndMomentumFollowPyTorch(int n)
    {
        var (start, grads) = Problem(n);
        foreach (var (mu, wd, centered) in new[] { (0.0, 0.0, true), (0.9, 0.0, true), (0.5, 0.01, true), (0.9, 0.01, false) })
            Numeric.AssertClose(RmsPropReference(start, grads, 0.01, 0.9, 1e-7, mu, wd, centered),
                RunSteps(p => new RmsProp([p], 0.01f, momentum: (float)mu, weightDecay: (float)wd, centered: centered), start, grads), 1e-5,
                $"RMSprop momentum {mu} wd {wd} centered {centered}");
    }

    /// <summary>
    /// The defaults are the float formulas they always were, bit for bit (seed results depend on it): the new
    /// options add work only when they are on.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void DefaultUpdatesAreBitIdenticalToTheirFloatFormulas(int n)
    {
        var (start, grads) = Problem(n);
        float[] p = (float[])start.Clone(), m = new float[n], v = new float[n], b = new float[n], s = new float[n];
        float[] pSgd = (float[])start.Clone(), pRms = (float[])start.Clone();
        float b1 = 0.9f, b2 = 0.999f, c1 = 1 - b1, c2 = 1 - b2, lr = 0.01f;
        for (int t = 1; t <= grads.Length; t++)
        {
            float step = (float)(lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t)));
            for (int i = 0; i < n; i++)
            {
                float g = grads[t - 1][i];
                m[i] = b1 * m[i] + c1 * g;
                v[i] = b2 * v[i] + c2 * g * g;
                p[i] = p[i] * 1f - step * m[i] / (MathF.Sqrt(v[i]) + 1e-7f);
                b[i] = 0.9f * b[i] + g;
                pSgd[i] -= lr * b[i];
                s[i] = 0.9f * s[i] + (1 - 0.9f) * g * g;
                pRms[i] -= lr * (g / (MathF.Sqrt(s[i]) + 1e-7f));
            }
        }
        Assert.Equal(p, RunSteps(q => new Adam([q], lr), start, grads));
        Assert.Equal(pSgd, RunSteps(q => new Sgd([q], lr, 0.9f), start, grads));
        Assert.Equal(pRms, RunSteps(q => new RmsProp([q], lr), start, grads));
    }
}
