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
}
