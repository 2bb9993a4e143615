using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

public class ModelTests
{
    [Fact]
    public void ParameterCountsMatchTheSeedArchitectures()
    {
        Assert.Equal(163, new ToyMlp().ParameterCount());
        Assert.Equal(1250, new DigitsCnn().ParameterCount());
        Assert.Equal(6309, new Vae().ParameterCount());
        Assert.Equal(3561, new GanGenerator().ParameterCount());
        Assert.Equal(1569, new GanDiscriminator().ParameterCount());
        Assert.Equal(1218, new ScoreMlp().ParameterCount());
        Assert.Equal(93322, new MnistCnn().ParameterCount()); // the Keras tutorial's 93,322
    }

    [Fact]
    public void OutputShapes()
    {
        var g = new Generator(1);
        Assert.Equal([3, 5], new ToyMlp(g).Call(Tensor.Zeros(3, 2)).ShapeArray());
        Assert.Equal([3, 10], new DigitsCnn(g).Call(Tensor.Zeros(3, 1, 8, 8)).ShapeArray());
        var vae = new Vae(generator: g);
        var (mu, lv) = vae.Encode(Tensor.Zeros(3, 1, 8, 8));
        Assert.Equal([3, 10], mu.ShapeArray());
        Assert.Equal([3, 10], lv.ShapeArray());
        Assert.Equal([4, 1, 8, 8], vae.Sample(4, g).ShapeArray());
        var gen = new GanGenerator(generator: g);
        Assert.Equal([4, 1, 8, 8], gen.Generate(4, g).ShapeArray());
        Assert.Equal([4, 1], new GanDiscriminator(g).Call(Tensor.Zeros(4, 1, 8, 8)).ShapeArray());
        Assert.Equal([2, 10], new MnistCnn(g).Call(Tensor.Zeros(2, 1, 28, 28)).ShapeArray());
        Assert.Contains("Total params: 93,322", new MnistCnn(g).Summary(1, 1, 28, 28).ToString());
    }

    [Fact]
    public void DigitsCnnRejectsWrongImageSize()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DigitsCnn().Call(Tensor.Zeros(2, 1, 28, 28)));
        Assert.Contains("8 x 8", ex.Message);
    }

    [Fact]
    public void ScoreLossTraceMatchesTheExplicitJacobian()
    {
        // For a score model, tr(ds/dx) from the createGraph columns equals the finite-difference Jacobian trace.
        var model = new ScoreMlp(new Generator(3));
        var x = Tensor.RandN(new Generator(4), [6, 2]);
        var loss = model.ImplicitLoss(x).Item();
        var xs = x.ToArray();
        double total = 0;
        using (new NoGrad())
        {
            var s = model.Call(x).ToArray();
            for (int r = 0; r < 6; r++)
            {
                double tr = 0;
                for (int i = 0; i < 2; i++)
                {
                    var p = (float[])xs.Clone(); p[2 * r + i] += 1e-3f;
                    var m = (float[])xs.Clone(); m[2 * r + i] -= 1e-3f;
                    double sp = model.Call(Tensor.FromArray(p, [6, 2])).ToArray()[2 * r + i];
                    double sm = model.Call(Tensor.FromArray(m, [6, 2])).ToArray()[2 * r + i];
                    tr += (sp - sm) / 2e-3;
                }
                total += s[2 * r] * s[2 * r] + s[2 * r + 1] * s[2 * r + 1] + 2 * tr;
            }
        }
        Assert.Equal(total / 6, loss, 2);
        model.ImplicitLoss(x).Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void VaeLossTermsAreFiniteAndDifferentiable()
    {
        var vae = new Vae(generator: new Generator(1));
        var x = Tensor.Rand(new Generator(2), [4, 1, 8, 8]);
        var (kl, rec) = vae.Loss(x, new Generator(3), 0.01f);
        (kl + rec).Backward();
        Assert.True(float.IsFinite(kl.Item()) && kl.Item() >= 0);
        Assert.True(rec.Item() > 0);
        Assert.All(vae.Parameters(), p => Assert.NotNull(p.Grad));
    }
}
