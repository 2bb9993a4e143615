using Lab.Core.Backends;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// The fused convolution, ReLU and max pool against the three ops in a row, bit for bit: values and the gradients to
/// x, weight and bias, on the AVX-512 2x2 kernel's edges (rows of 13 and 17 windows, an odd last row and column left
/// out, batch 1, one channel), the single-channel kernel that pools in registers, and the general pooling loop (overlapping and stride-1 windows); inputs on a coarse grid
/// give tied maxima, and a negative bias makes whole windows non-positive, where the gradient must stop.
/// </summary>
public class ConvReluPoolTests
{
    [Theory]
    [InlineData(32, 1, 28, 28, 6, 2, 2)]  // MnistCnn's first block: 26 x 26 -> 13 windows a row, on both threads
    [InlineData(2, 1, 12, 21, 9, 2, 2, 5, 4)] // a 5 x 4 kernel: 8 x 18 -> 4 x 9, filters in blocks of 4 and one more
    [InlineData(1, 1, 9, 37, 1, 2, 2)]    // 7 x 35: 17 windows a row, odd last row and column
    [InlineData(2, 3, 13, 13, 7, 2, 2)]   // 11 x 11 -> 5 x 5 over several channels: pooled from the GEMM's rows
    [InlineData(32, 32, 13, 13, 64, 2, 2)] // MnistCnn's second block: chunks of samples, both threads
    [InlineData(2, 2, 20, 21, 3, 2, 2)]   // 18 x 19: a map wide enough for one-sample chunks
    [InlineData(1, 4, 8, 9, 6, 2, 2, 1, 1)] // pointwise: the input is the GEMM's operand in place
    [InlineData(2, 2, 9, 10, 3, 3, 2)]    // overlapping windows: the general loop
    [InlineData(1, 2, 6, 7, 2, 2, 1)]     // stride-1 2x2 windows: the general loop
    public void Fused_MatchesConvReluMaxPoolBitForBit(int n, int c, int h, int w, int k, int pool, int poolStride, int kh = 3, int kw = 3)
    {
        var g = new Generator(7);
        // Multiples of 1/4 in x and w: exact products, so tied conv outputs are common.
        var x = Grid(g, [n, c, h, w], 4);
        var weight = Grid(g, [k, c, kh, kw], 2);
        var bias = Tensor.FromArray(Enumerable.Range(0, k).Select(i => i % 2 == 0 ? -1.5f : -6f).ToArray(), [k]);
        var (fx, fw, fb) = (x.Detach().RequireGrad(), weight.Detach().RequireGrad(), bias.Detach().RequireGrad());
        var (ux, uw, ub) = (x.Detach().RequireGrad(), weight.Detach().RequireGrad(), bias.Detach().RequireGrad());

        var fused = Tensor.Conv2dReluMaxPool2d(fx, fw, fb, pool, poolStride);
        var unfused = Tensor.Conv2d(ux, uw, ub).Relu().MaxPool2d(pool, poolStride);
        Assert.Equal(unfused.ShapeArray(), fused.ShapeArray());
        Assert.Equal(unfused.ToArray(), fused.ToArray());
        Assert.Contains(0f, fused.ToArray()); // some windows are all at or below zero
        Assert.Contains(fused.ToArray(), v => v > 0);

        var upstream = Tensor.RandN(g, fused.ShapeArray());
        var fusedGrads = Autograd.Grad([(fused * upstream).Sum()], [fx, fw, fb]);
        var unfusedGrads = Autograd.Grad([(unfused * upstream).Sum()], [ux, uw, ub]);
        // 2x2 stride-2 pools take their gradients straight from the pooled gradient on AVX-512 (Cpu.ConvPoolGrad): the
        // same sums in another order, so equal to rounding; the general loop's are the unfused ops' bit for bit.
        bool sparse = CpuBackend.Instance.FusesConv2dReluMaxPool2dGradInput(new ConvGeometry(n, c, h, w, k, kh, kw, 1, 1, 0, 0),
            new PoolGeometry(n, k, h - kh + 1, w - kw + 1, pool, pool, poolStride, poolStride, 0, 0));
        for (int i = 0; i < 3; i++)
        {
            float[] expected = unfusedGrads[i]!.ToArray(), actual = fusedGrads[i]!.ToArray();
            if (!sparse) Assert.Equal(expected, actual);
            else
            {
                float scale = 1 + expected.Max(Math.Abs);
                for (int j = 0; j < expected.Length; j++)
                    Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-5f * scale, $"gradient {i}[{j}]: {actual[j]}, expected {expected[j]}");
            }
        }
    }

    /// <summary>
    /// A first layer (the input needs no gradient) takes the weight and bias gradients straight from the pooled gradient
    /// (the single-channel kernel); they match the unfused ops' to rounding (the sums run in another order), on the
    /// kernel's edges: 13, 17 and 19 windows a row, a 5 x 4 kernel, batch 1, no bias.
    /// </summary>
    [Theory]
    [InlineData(32, 28, 28, 32, 3, 3, true)]
    [InlineData(1, 9, 37, 1, 3, 3, true)]
    [InlineData(3, 7, 40, 5, 3, 3, false)]
    [InlineData(2, 12, 21, 9, 5, 4, true)]
    public void FirstLayerWeightGradient_MatchesTheUnfusedOps(int n, int h, int w, int k, int kh, int kw, bool withBias)
    {
        var g = new Generator(11);
        var x = Grid(g, [n, 1, h, w], 4);
        var weight = Grid(g, [k, 1, kh, kw], 2);
        var bias = withBias ? Tensor.FromArray(Enumerable.Range(0, k).Select(i => i % 2 == 0 ? -1.5f : 0.5f).ToArray(), [k]) : null;
        var (fw, fb) = (weight.Detach().RequireGrad(), bias?.Detach().RequireGrad());
        var (uw, ub) = (weight.Detach().RequireGrad(), bias?.Detach().RequireGrad());

        var fused = Tensor.Conv2dReluMaxPool2d(x, fw, fb, 2);
        var unfused = Tensor.Conv2d(x, uw, ub).Relu().MaxPool2d(2);
        var upstream = Tensor.RandN(g, fused.ShapeArray());
        var fusedGrads = Autograd.Grad([(fused * upstream).Sum()], fb is null ? [fw] : [fw, fb]);
        var unfusedGrads = Autograd.Grad([(unfused * upstream).Sum()], ub is null ? [uw] : [uw, ub]);
        for (int i = 0; i < fusedGrads.Length; i++)
        {
            float[] expected = unfusedGrads[i]!.ToArray(), actual = fusedGrads[i]!.ToArray();
            Assert.Contains(expected, v => Math.Abs(v) > 0.1f);
            for (int j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - actual[j]) <= 2e-4f * (1 + Math.Abs(expected[j])), $"gradient {i}[{j}]: {actual[j]}, expected {expected[j]}");
        }
    }

    /// <summary>Normal values times <paramref name="scale"/>, rounded, divided by 4.</summary>
    private static Tensor Grid(Generator g, int[] shape, float scale) =>
        Tensor.FromArray(Tensor.RandN(g, shape).ToArray().Select(v => MathF.Round(v * scale) / 4).ToArray(), shape);

    /// <summary>
    /// Sequential runs a Conv2d(relu) then MaxPool2d pair as the fused op, and its output and every parameter's
    /// gradient are those of calling the layers one by one (to rounding for the first layer, whose weight gradient
    /// comes from the first-layer kernel); a pool with padding, or a layer in between, is not fused.
    /// </summary>
    [Fact]
    public void Sequential_FusesConvReluPoolBlocks_WithTheLayersResults()
    {
        var net = new Sequential(
            new Conv2d(1, 4, 3, activation: Activation.Relu, generator: new Generator(1)),
            new MaxPool2d(2),
            new Conv2d(4, 6, 3, activation: Activation.Relu, generator: new Generator(2)),
            new MaxPool2d(2, padding: 1),
            new Conv2d(6, 5, 2, activation: Activation.Relu, generator: new Generator(3)),
            new Flatten(),
            new Linear(20, 3, generator: new Generator(4)));
        var x = Tensor.RandN(new Generator(9), [2, 1, 14, 14]);

        var fused = net.Call(x);
        var parameters = net.Parameters().ToArray();
        var fusedGrads = Autograd.Grad([fused.Square().Sum()], parameters);

        var y = x;
        var nodes = new List<string>();
        foreach (var layer in net.Layers)
        {
            y = layer.Forward(y);
            nodes.Add(y.GradFn?.Name ?? "");
        }
        Assert.Equal(y.ToArray(), fused.ToArray());
        var grads = Autograd.Grad([y.Square().Sum()], parameters);
        // The first block's weight and bias gradients come from the first-layer kernel (sums in another order).
        for (int i = 0; i < 2; i++)
            Assert.Equal(grads[i]!.ToArray().Select(v => (double)v), fusedGrads[i]!.ToArray().Select(v => (double)v), new ToleranceComparer(1e-4));
        for (int i = 2; i < parameters.Length; i++) Assert.Equal(grads[i]!.ToArray(), fusedGrads[i]!.ToArray());

        // Which blocks fused: the first (plain 2x2 pool) only; the padded pool runs as its own op.
        var probe = net.Layers[0].Call(x);
        Assert.Equal("ReluBackward", probe.GradFn!.Name);
        var first = Tensor.Conv2dReluMaxPool2d(x, ((Conv2d)net.Layers[0]).Weight, ((Conv2d)net.Layers[0]).Bias, 2);
        Assert.Equal("Conv2dReluMaxPool2dBackward", first.GradFn!.Name);
        Assert.Equal(["ReluBackward", "MaxPool2dBackward", "ReluBackward", "MaxPool2dBackward"], nodes.Take(4));
        Assert.True(((Conv2d)net.Layers[0]).FusesWith(net.Layers[1]));
        Assert.False(((Conv2d)net.Layers[2]).FusesWith(net.Layers[3]));
        Assert.False(((Conv2d)net.Layers[4]).FusesWith(net.Layers[5]));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance * (1 + Math.Abs(a));
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void PoolLargerThanTheConvolutionsOutput_IsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Conv2dReluMaxPool2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(2, 1, 3, 3), null, 3));
        Assert.Contains("Conv2dReluMaxPool2d", ex.Message);
        Assert.Contains("[1, 2, 2, 2]", ex.Message);
    }
}
