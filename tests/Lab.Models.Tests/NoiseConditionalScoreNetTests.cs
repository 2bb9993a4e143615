using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Optim;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

public class NoiseConditionalScoreNetTests
{
    [Fact]
    public void ParameterCountAndShapes()
    {
        var net = new ScoreMlpNet(generator: new Generator(1));
        // 3 hidden layers of 256 on 64 inputs, a 13-feature σ embedding into each, 64 outputs.
        Assert.Equal(64 * 256 + 256 + 2 * (256 * 256 + 256) + 3 * 13 * 256 + 256 * 64 + 64, net.ParameterCount());
        var c = net.Conditioning(0.3f, 5, Device.Cpu);
        Assert.Equal([5, 64], net.Denoise(Tensor.Zeros(5, 64), c).ShapeArray());
        Assert.Equal([5, 64], net.Call(Tensor.Zeros(5, 1, 8, 8)).ShapeArray());
    }

    [Fact]
    public void ConvNetParameterCountAndShapes()
    {
        var net = new ScoreConvNet(channels: 32, generator: new Generator(1));
        // Global code 64 -> 256 (+ 13 -> 256 for σ); per conv layer 3x3 weights, a bias and 269 -> 32 per-channel biases.
        long expected = 64 * 256 + 256 + 13 * 256 + (9 * 32 + 32) + 3 * (9 * 32 * 32 + 32) + 4 * 269 * 32 + (9 * 32 + 1);
        Assert.Equal(expected, net.ParameterCount());
        var c = net.Conditioning([0.1f, 2f, 4f], Device.Cpu);
        var x = Tensor.Rand(new Generator(2), [3, 64]);
        Assert.Equal([3, 64], net.Denoise(x, c).ShapeArray());
        net.DenoisingLoss(x, [0.1f, 2f, 4f], new Generator(3)).Backward();
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void PreconditioningFollowsKarrasEtAl()
    {
        var net = new ScoreMlpNet(hidden: 8, dataStd: 0.5f);
        var c = net.Conditioning([0.01f, 1f, 5f], Device.Cpu);
        float[] s = [0.01f, 1f, 5f];
        for (int i = 0; i < 3; i++)
        {
            double total = s[i] * s[i] + 0.25;
            Assert.Equal(1 / Math.Sqrt(total), c.CIn.ToArray()[i], 5);
            Assert.Equal(0.25 / total, c.CSkip.ToArray()[i], 5);
            Assert.Equal(s[i] * 0.5 / Math.Sqrt(total), c.COut.ToArray()[i], 5);
            Assert.Equal(1 / (s[i] * (double)s[i]), c.InverseVariance.ToArray()[i], 1);
        }
    }

    [Fact]
    public void ScoreIsTweediesFormula()
    {
        var net = new ScoreConvNet(channels: 8, generator: new Generator(2));
        var x = Tensor.Rand(new Generator(3), [4, 64]);
        var c = net.Conditioning(0.5f, 4, Device.Cpu);
        using var _ = new NoGrad();
        var expected = ((net.Denoise(x, c) - x) / 0.25f).ToArray();
        var score = net.Score(x, c).ToArray();
        for (int i = 0; i < score.Length; i++) Assert.Equal(expected[i], score[i], 4);
    }

    [Fact]
    public void DenoisingLossTrainsTowardsTheData()
    {
        // Two fixed images: a few Adam steps must lower the denoising loss at a fixed set of levels.
        var g = new Generator(5);
        var net = new ScoreMlpNet(hidden: 32, generator: g);
        var x = Tensor.Rand(new Generator(6), [2, 64]);
        float[] sigmas = [0.1f, 1f];
        float Loss() { using var _ = new NoGrad(); return net.DenoisingLoss(x, sigmas, new Generator(7)).Item(); }
        float before = Loss();
        var adam = new Adam(net.Parameters(), 1e-2f);
        for (int i = 0; i < 60; i++)
        {
            adam.ZeroGrad();
            net.DenoisingLoss(x, sigmas, g).Backward();
            adam.Step();
        }
        Assert.True(Loss() < 0.7 * before, $"loss {before} -> {Loss()}");
    }
}
