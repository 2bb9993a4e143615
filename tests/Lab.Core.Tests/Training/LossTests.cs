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
