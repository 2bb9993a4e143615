using Lab.Bench.Bdn;
using Lab.Core;
using Lab.Core.Autodiff;

namespace Lab.Bench.Tests;

public class AttentionBenchmarkTests
{
    /// <summary>The benchmarked step is the real one: its loss is mean(y²) of the layer's output, and it fills every gradient.</summary>
    [Fact]
    public void The_attention_step_computes_the_loss_and_every_gradient()
    {
        var bench = new AttentionBenchmarks { Device = "cpu", Causal = true };
        bench.Setup();
        float loss = bench.ForwardBackward();
        var layer = new Lab.Core.Nn.MultiHeadAttention(AttentionBenchmarks.Heads, AttentionBenchmarks.Features / AttentionBenchmarks.Heads,
            queryFeatures: AttentionBenchmarks.Features, generator: new Generator(1));
        var x = Tensor.RandN(new Generator(2), [AttentionBenchmarks.Batch, AttentionBenchmarks.Steps, AttentionBenchmarks.Features]);
        float expected;
        using (new NoGrad()) expected = layer.Forward(x, x, useCausalMask: true).Square().Mean().Item();
        Assert.Equal(expected, loss, 5);
        var again = AttentionBenchmarks.Step(layer, x.RequireGrad(), causal: true);
        Assert.Equal(expected, again, 5);
        Assert.All(layer.Parameters(), p => Assert.True(p.Grad is not null && p.Grad.Abs().Sum().Item() > 0));
        Assert.True(x.Grad!.Abs().Sum().Item() > 0);
    }
}
