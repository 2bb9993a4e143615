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
    public void FromLogitsTheGradientIsSoftmaxMinusOneHotEvenWhereTheProbabilityUnderflows()
    {
        // The target's probability is exp(-40) relative: through the clip its gradient would be zero; from the
        // logits it is softmax - onehot, as in Keras with from_logits=True.
        var logits = Tensor.FromArray([20f, -20f, 0f], [1, 3]).RequireGrad();
        var labels = Tensor.FromArray(1f);
        var loss = Losses.SparseCategoricalCrossEntropy(logits, labels, fromLogits: true);
        Assert.Equal(40.0, loss.Item(), 3);
        Assert.Equal(Losses.CrossEntropy(logits.Detach(), labels).Item(), loss.Item());
        loss.Backward();
        var g = logits.Grad!.ToArray();
        Assert.Equal(1.0, g[0], 5);
        Assert.Equal(-1.0, g[1], 5);
        Assert.Equal(0.0, g[2], 5);
        var oneHot = Tensor.FromArray([0f, 1f, 0f], [1, 3]);
        Assert.Equal(loss.Item(), Losses.CategoricalCrossEntropy(logits.Detach(), oneHot, fromLogits: true).Item());
    }

    [Fact]
    public void TheProbabilityFormDoesNotLookThroughASoftmax()
    {
        // The same softmax output, passed as probabilities: the loss is the clipped -log(1e-7) and, as in Keras, the
        // clip passes no gradient. How the input was made no longer matters.
        var logits = Tensor.FromArray([20f, -20f, 0f], [1, 3]).RequireGrad();
        var loss = Losses.SparseCategoricalCrossEntropy(logits.Softmax(1), Tensor.FromArray(1f));
        Assert.Equal(-Math.Log(1e-7), loss.Item(), 4);
        loss.Backward();
        Assert.Equal([0f, 0f, 0f], logits.Grad!.ToArray());
    }

    [Fact]
    public void ProbabilityGradientsNearZeroAndOneFollowKerasClippedForm()
    {
        // L = -log(clip(p_y / S)), S the row sum: inside the clip dL/dp_j = 1/S - [j = y]/p_y; outside it, 0.
        var p = Tensor.FromArray([1e-5f, 0.5f, 0.5f - 1e-5f,     // p_y = 1e-5: small, but above the clip
                                  1f, 0f, 0f,                   // p_y = 1: clipped at 1 - 1e-7
                                  0f, 1f, 0f,                   // p_y = 0: clipped at 1e-7
                                  0.2f, 0.3f, 0.6f], [4, 3]).RequireGrad();   // S = 1.1: divided by the row sum
        var labels = Tensor.FromArray(0f, 0f, 0f, 2f);
        var loss = Losses.SparseCategoricalCrossEntropy(p, labels, Reduction.None);
        var values = loss.ToArray();
        Assert.Equal(-Math.Log(1e-5), values[0], 3);
        Assert.Equal(-Math.Log(1 - 1e-7), values[1], 6);
        Assert.Equal(-Math.Log(1e-7), values[2], 4);
        Assert.Equal(-Math.Log(0.6 / 1.1), values[3], 5);
        var g = Autograd.Grad(loss.Sum(), p)!.ToArray();
        Assert.Equal(1 - 1e5, g[0], 0);      // 1/S - 1/p_y with S = 1
        Assert.Equal(1.0, g[1], 4);
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f], g[3..9]);
        Assert.Equal(1 / 1.1, g[9], 5);
        Assert.Equal(1 / 1.1, g[10], 5);
        Assert.Equal(1 / 1.1 - 1 / 0.6, g[11], 5);
        // And against central differences where the loss is smooth (the first and last rows).
        float[] at = p.ToArray();
        foreach (int i in new[] { 0, 1, 9, 11 })
        {
            double h = i == 0 ? 1e-7 : 1e-3;
            double Loss(double delta)
            {
                var q = (float[])at.Clone();
                q[i] += (float)delta;
                return Losses.SparseCategoricalCrossEntropy(Tensor.FromArray(q, [4, 3]), labels, Reduction.Sum).Item();
            }
            Assert.Equal(g[i], (Loss(h) - Loss(-h)) / (2 * h), i == 0 ? 1e5 * 2e-2 : 2e-2);
        }
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
