using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The digits CNN of seed 001: Conv(1->4, 3x3, relu) -> Conv(4->8, 3x3, relu) -> Conv(8->8, 3x3, relu)
/// -> Flatten(32) -> Dense(32->10, softmax), on N x 1 x 8 x 8 images.
/// </summary>
public sealed class DigitsCnn : Module
{
    private readonly Sequential _features, _head;

    public DigitsCnn(Generator? generator = null)
    {
        _features = RegisterModule("features", new Sequential(
            new Conv2d(1, 4, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(4, 8, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(8, 8, 3, activation: Activation.Relu, generator: generator),
            new Flatten()));
        _head = RegisterModule("head", new Sequential(new Linear(32, 10, generator: generator)));
    }

    /// <summary>Class probabilities: the softmax of <see cref="Logits"/>.</summary>
    public override Tensor Forward(Tensor x) => Logits(x).Softmax(1);

    /// <summary>The classifier's scores before the softmax (for losses with fromLogits: true).</summary>
    public Tensor Logits(Tensor x) => _head.Call(Features(x));

    /// <summary>The 32 flattened features before the classifier (used for Fréchet distances).</summary>
    public Tensor Features(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != 1 || x.Shape[2] != 8 || x.Shape[3] != 8)
            throw new ArgumentException($"DigitsCnn: expected images N x 1 x 8 x 8, got {ShapeUtil.Format(x.Shape)}.");
        return _features.Call(x);
    }
}
