using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>The toy classifier of seeds 000/001: Dense(2->10, relu) -> Dense(10->8, relu) -> Dense(8->5, softmax), 163 parameters.</summary>
public sealed class ToyMlp : Module
{
    private readonly Sequential _net;

    public ToyMlp(Generator? generator = null, int classes = 5)
    {
        _net = RegisterModule("net", new Sequential(
            new Linear(2, 10, Activation.Relu, generator: generator),
            new Linear(10, 8, Activation.Relu, generator: generator),
            new Linear(8, classes, generator: generator)));
    }

    /// <summary>Class probabilities for each row of an N x 2 input: the softmax of <see cref="Logits"/>.</summary>
    public override Tensor Forward(Tensor x) => Logits(x).Softmax(1);

    /// <summary>The last layer's scores before the softmax (for losses with fromLogits: true).</summary>
    public Tensor Logits(Tensor x) => _net.Call(x);
}

/// <summary>Seed 000's regression network for noisy sin on [-3, 3]: Dense(1->10, relu) -> Dense(10->8, relu) -> Dense(8->1).</summary>
public sealed class RegressionMlp : Module
{
    private readonly Sequential _net;

    public RegressionMlp(Generator? generator = null)
    {
        _net = RegisterModule("net", new Sequential(
            new Linear(1, 10, Activation.Relu, generator: generator),
            new Linear(10, 8, Activation.Relu, generator: generator),
            new Linear(8, 1, generator: generator)));
    }

    public override Tensor Forward(Tensor x) => _net.Call(x);
}
