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
}
