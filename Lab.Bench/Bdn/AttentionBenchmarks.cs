using BenchmarkDotNet.Attributes;
using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Bench.Bdn;

/// <summary>
/// A MultiHeadAttention block's training step, forward and backward, on PyTorch's comparison shape (bench/pytorch/mha.py
/// runs nn.MultiheadAttention, batch_first, on the same): B = 32 sequences of T = 64 steps of d = 128 features, 8 heads
/// of 16, self-attention, loss mean(y²), gradients of the weights and the input. Inside a TensorScope, as training runs.
/// </summary>
[Config(typeof(BenchConfig.LongSteps))]
public class AttentionBenchmarks
{
    public const int Batch = 32, Steps = 64, Features = 128, Heads = 8;

    private MultiHeadAttention _layer = null!;
    private Tensor _x = null!;

    [Params("cpu", "cuda")]
    public string Device { get; set; } = "cpu";

    [Params(false, true)]
    public bool Causal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var device = Lab.Core.Device.Parse(Device);
        _layer = new MultiHeadAttention(Heads, Features / Heads, queryFeatures: Features, generator: new Generator(1));
        _layer.To(device);
        _x = Tensor.RandN(new Generator(2), [Batch, Steps, Features], device: device).RequireGrad();
    }

    /// <summary>One step, then a read of the loss so that an asynchronous device has finished it.</summary>
    [Benchmark]
    public float ForwardBackward() => Step(_layer, _x, Causal);

    /// <summary>The measured step (also run by the bench tests): gradients zeroed, forward, mean(y²), backward.</summary>
    public static float Step(MultiHeadAttention layer, Tensor x, bool causal)
    {
        using var _ = TensorScope.Begin();
        layer.ZeroGrad();
        x.Grad?.Zero();
        var y = layer.Forward(x, x, useCausalMask: causal);
        var loss = y.Square().Mean();
        loss.Backward();
        return loss.Item();
    }
}
