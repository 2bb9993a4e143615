using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Training;

public class LossTests
{
    [Fact]
    public void SparseCategoricalCrossEntropyOnPlainProbabilitiesClipsLikeKeras()
    {
        var p = Tensor.FromArray([0.7f, 0.2f, 0.1f, 0f, 1f, 0f], [2, 3]);
        var loss = Losses.SparseCategoricalCrossEntropy(p, Tensor.FromArray(0f, 0f), Reduction.None).ToArray();
        Assert.Equal(-Math.Log(0.7), loss[0], 5);
        Assert.Equal(-Math.Log(1e-7), loss[1], 3); // p = 0 is clipped to 1e-7, not -log(0)
    }

    [Fact]
    public void SparseCategoricalCrossEntropyOfARecordedSoftmaxUsesItsLogits()
    {
        // The target's probability underflows (exp(-40) relative): through the clip its gradient would be
        // zero; through the logits it is softmax - onehot, as in Keras.
        var logits = Tensor.FromArray([20f, -20f, 0f], [1, 3]).RequireGrad();
        var labels = Tensor.FromArray(1f);
        var loss = Losses.SparseCategoricalCrossEntropy(logits.Softmax(1), labels);
        var expected = Losses.CrossEntropy(logits.Detach(), labels).Item();
        Assert.Equal(expected, loss.Item(), 4);
        Assert.Equal(40.0, loss.Item(), 3);
        loss.Backward();
        var g = logits.Grad!.ToArray();
        Assert.Equal(1.0, g[0], 5);
        Assert.Equal(-1.0, g[1], 5);
        Assert.Equal(0.0, g[2], 5);
    }

    [Fact]
    public void BinaryCrossEntropyClampsEachLogAtMinus100LikeBceLoss()
    {
        // p = 0 and p = 1 are certainties: right ones cost 0, wrong ones 100 (log clamped at -100), never inf.
        var p = Tensor.FromArray(0f, 1f, 0f, 1f, 0.25f).RequireGrad();
        var t = Tensor.FromArray(0f, 1f, 1f, 0f, 1f);
        var loss = Losses.BinaryCrossEntropy(p, t, Reduction.None);
        Assert.Equal([0f, 0f, 100f, 100f, (float)-Math.Log(0.25)], loss.ToArray());
        // The gradient of the clamped form: 0 through a clamped log, finite everywhere; -t/p + (1-t)/(1-p) elsewhere.
        var g = Autograd.Grad(loss.Sum(), p)!.ToArray();
        Assert.Equal([1f, -1f, 0f, 0f, -4f], g);
        var gg = Autograd.Grad(Losses.BinaryCrossEntropy(p, t, Reduction.Sum), p, createGraph: true)!;
        Assert.Equal(g, gg.ToArray());
        Assert.All(Autograd.Grad(gg.Sum(), p)!.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void BinaryCrossEntropyGradientStaysFiniteForSubnormalProbabilities()
    {
        // Between e^-100 = 3.7e-44 (where the clamp starts) and 2.9e-39, 1/p overflows float32: sigmoid(-95) = 5.5e-42.
        var x = Tensor.FromArray(-95f, -89f, -120f).RequireGrad();
        var p = x.Sigmoid();
        var p2 = Tensor.FromArray(1e-40f, 3e-44f, 2e-38f).RequireGrad();
        var t = Tensor.FromArray(1f, 1f, 1f);
        var loss = Losses.BinaryCrossEntropy(p, t, Reduction.None).ToArray();   // subnormals: about 4 digits
        for (int i = 0; i < 3; i++) Assert.Equal(new[] { 95f, 89f, 100f }[i], loss[i], 1e-3f);
        Assert.All(Autograd.Grad(Losses.BinaryCrossEntropy(p, t, Reduction.Sum), x)!.ToArray(), v => Assert.True(float.IsFinite(v)));
        var g = Autograd.Grad(Losses.BinaryCrossEntropy(p2, t, Reduction.Sum), p2, createGraph: true)!;
        Assert.All(g.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0f, g.ToArray()[1]);                      // clamped
        Assert.Equal(-1 / 2e-38f, g.ToArray()[2], 1e-6f * 5e37f);  // a normal p keeps -1/p
        // The second order of the subnormal and clamped ones too (at 2e-38 it is 1/p² = 2.5e75, overflowing like any p below 1e-19).
        Assert.All(Autograd.Grad(g.Sum(), p2)!.ToArray()[..2], v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void BinaryCrossEntropyOfASigmoidMatchesTheLogitsForm()
    {
        var logits = Tensor.RandN(new Generator(3), [4, 5]);
        var targets = Tensor.Rand(new Generator(4), [4, 5]);
        var weight = Tensor.FromArray(0.5f, 1f, 2f, 1f, 3f);
        foreach (var r in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
        {
            var fromProbabilities = Losses.BinaryCrossEntropy(logits.Sigmoid(), targets, r, weight).ToArray();
            var fromLogits = Losses.BinaryCrossEntropyWithLogits(logits, targets, r, weight).ToArray();
            Numeric.AssertClose(fromLogits, fromProbabilities, 1e-5, $"BCE {r}");
        }
    }

    [Fact]
    public void BinaryCrossEntropyRejectsMismatchedShapesAndWeights()
    {
        var p = Tensor.Full([2, 3], 0.5f);
        var ex = Assert.Throws<ArgumentException>(() => Losses.BinaryCrossEntropy(p, Tensor.Zeros(3, 2)));
        Assert.Contains("BinaryCrossEntropy: probabilities [2, 3] and targets [3, 2]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Losses.BinaryCrossEntropyWithLogits(p, Tensor.Zeros(2, 3), weight: Tensor.Ones(2)));
        Assert.Contains("weight [2] does not broadcast", ex.Message);
    }
}
