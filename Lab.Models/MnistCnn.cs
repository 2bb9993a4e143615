using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The Keras tutorial CNN of seed 001 exercise 10, on N x 1 x 28 x 28: Conv(1->32, 3, relu) -> MaxPool 2 ->
/// Conv(32->64, 3, relu) -> MaxPool 2 -> Conv(64->64, 3, relu) -> Flatten(576) -> Dense(576->64, relu) -> Dense(64->10, softmax).
/// </summary>
public sealed class MnistCnn : Module
{
    private readonly Sequential _net;

    public MnistCnn(Generator? generator = null)
    {
        _net = RegisterModule("net", new Sequential(
            new Conv2d(1, 32, 3, activation: Activation.Relu, generator: generator),
            new MaxPool2d(2),
            new Conv2d(32, 64, 3, activation: Activation.Relu, generator: generator),
            new MaxPool2d(2),
            new Conv2d(64, 64, 3, activation: Activation.Relu, generator: generator),
            new Flatten(),
            new Linear(576, 64, Activation.Relu, generator: generator),
            new Linear(64, 10, generator: generator)));
    }

    /// <summary>Class probabilities: the softmax of <see cref="Logits"/>.</summary>
    public override Tensor Forward(Tensor x) => Logits(x).Softmax(1);

    /// <summary>The scores before the softmax (for losses with fromLogits: true).</summary>
    public Tensor Logits(Tensor x) => _net.Call(x);
}
