using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// Pooling beyond the registry: a gradient penalty through a pooling critic (issue 12's bug), ties in a window
/// (PyTorch gives a window's gradient to its first maximum in row-major order), PyTorch's output sizes, the layers'
/// options and the argument errors.
/// </summary>
public class PoolTests
{
    /// <summary>
    /// A critic x -> tanh(W1 x) -> 2x4x4 planes -> 2x2 pool -> w2 . p + b2, and its gradient penalty
    /// P = sum over the batch of |d critic / d x|^2. P's gradient with respect to every weight, through createGraph,
    /// against central differences of the same penalty written out in double precision. Before pooling's backward
    /// was a recorded op, dP/dw2 (the layer after the pool) came out exactly 0.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientPenaltyThroughPooling_MatchesFiniteDifferences(bool max)
    {
        const int n = 2, d = 6, hidden = 32;
        var g = new Generator(5);
        var x = Tensor.RandN(g, [n, d]).RequireGrad();
        var w1 = (Tensor.RandN(g, [hidden, d]) * 0.5f).Detach().RequireGrad();
        var w2 = Tensor.RandN(g, [1, 8]).RequireGrad();
        var b2 = Tensor.RandN(g, [1]).RequireGrad();

        var planes = Tensor.MatMul(x, w1, false, true).Tanh().Reshape(n, 2, 4, 4);
        var pooled = (max ? planes.MaxPool2d(2) : planes.AvgPool2d(2)).Reshape(n, 8);
        var critic = Tensor.MatMul(pooled, w2, false, true) + b2;
        var dx = Autograd.Grad([critic.Sum()], [x], createGraph: true)[0]!;
        var penalty = (dx * dx).Sum();
        var grads = Autograd.Grad([penalty], [w1, w2, b2], materializeUnused: true);

        var refs = new[] { R.Of(x), R.Of(w1), R.Of(w2) };
        double Penalty(R[] r) => ReferencePenalty(r[0], r[1], r[2], max);
        Assert.Equal(Penalty(refs), penalty.Item(), 1e-4 * (1 + Math.Abs(Penalty(refs))));
        Numeric.AssertClose(Numeric.Gradient(Penalty, refs, 1, 1e-6), grads[0]!.ToArray(), 1e-3, "dP/dW1");
        var dw2 = Numeric.Gradient(Penalty, refs, 2, 1e-6);
        Assert.True(dw2.Max(Math.Abs) > 0.05, "the penalty should depend on the layer after the pool");
        Numeric.AssertClose(dw2, grads[1]!.ToArray(), 1e-3, "dP/dw2");
        Assert.Equal(new float[1], grads[2]!.ToArray()); // a constant shift leaves d critic / d x unchanged
    }

    /// <summary>The penalty in double: d critic / d x = W1^T ((1 - h^2) * pool^T(w2)) per sample.</summary>
    private static double ReferencePenalty(R x, R w1, R w2, bool max)
    {
        int n = x.Shape[0], d = x.Shape[1], hidden = w1.Shape[0];
        double penalty = 0;
        for (int s = 0; s < n; s++)
        {
            var h = new double[hidden];
            for (int j = 0; j < hidden; j++)
            {
                double a = 0;
                for (int k = 0; k < d; k++) a += w1.Data[j * d + k] * x.Data[s * d + k];
                h[j] = Math.Tanh(a);
            }
            var dh = new double[hidden]; // pool^T(w2) over two 4x4 planes with 2x2 windows
            for (int o = 0; o < 8; o++)
            {
                int plane = o / 4, p = o % 4 / 2, q = o % 2;
                int[] taps = [.. from r in new[] { 0, 1 } from c in new[] { 0, 1 } select plane * 16 + (2 * p + r) * 4 + 2 * q + c];
                if (max) dh[taps.MaxBy(t => h[t])] += w2.Data[o];
                else foreach (int t in taps) dh[t] += w2.Data[o] / 4;
            }
            for (int k = 0; k < d; k++)
            {
                double gx = 0;
                for (int j = 0; j < hidden; j++) gx += w1.Data[j * d + k] * (1 - h[j] * h[j]) * dh[j];
                penalty += gx * gx;
            }
        }
        return penalty;
    }

    public static TheoryData<string, int[], Func<Tensor, Tensor>, (int, int), (int, int), (int, int), (int, int), bool> TiedGeometries => new()
    {
        { "2x2", [2, 2, 4, 6], t => t.MaxPool2d(2), (2, 2), (2, 2), (0, 0), (1, 1), false },
        { "3x3 stride 1 pad 1", [1, 2, 5, 5], t => t.MaxPool2d(3, 1, 1), (3, 3), (1, 1), (1, 1), (1, 1), false },
        { "per-axis", [2, 1, 5, 7], t => t.MaxPool2d((2, 3), (1, 2), (1, 1)), (2, 3), (1, 2), (1, 1), (1, 1), false },
        { "ceil", [1, 3, 5, 7], t => t.MaxPool2d(2, ceilMode: true), (2, 2), (2, 2), (0, 0), (1, 1), true },
        { "dilated", [1, 2, 7, 6], t => t.MaxPool2d(2, 1, dilation: (2, 3)), (2, 2), (1, 1), (0, 0), (2, 3), false },
    };

    /// <summary>
    /// Inputs drawn from {0, 1, 2}, so most windows hold tied maxima: each window's gradient goes whole to its first
    /// maximum in row-major order (PyTorch's rule), and the second-order gradient through createGraph follows the same
    /// positions. Expected values come from a direct scan of every window in double precision.
    /// </summary>
    [Theory]
    [MemberData(nameof(TiedGeometries))]
    public void MaxPoolTies_GradientGoesToTheFirstMaximumInRowMajorOrder(string name, int[] shape, Func<Tensor, Tensor> pool,
        (int H, int W) kernel, (int H, int W) stride, (int H, int W) pad, (int H, int W) dilation, bool ceil)
    {
        var g = new Generator(3);
        var data = Enumerable.Range(0, R.Count(shape)).Select(_ => (float)g.NextInt(3)).ToArray();
        var x = Tensor.FromArray(data, shape).RequireGrad();
        var y = pool(x);
        var expectedY = R.Pool(new R(Array.ConvertAll(data, v => (double)v), shape), kernel, stride, pad, true, dilation, ceil);
        Assert.Equal(expectedY.Shape, y.ShapeArray());
        Numeric.AssertClose(expectedY.Data, y.ToArray(), 0, $"{name} forward");

        // First winner of every window, scanned tap by tap in row-major order.
        int planes = shape[0] * shape[1], h = shape[2], w = shape[3], oh = expectedY.Shape[2], ow = expectedY.Shape[3];
        var winners = new int[planes * oh * ow];
        int ties = 0;
        for (int pl = 0; pl < planes; pl++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    int first = -1, count = 0;
                    for (int r = 0; r < kernel.H; r++)
                        for (int s = 0; s < kernel.W; s++)
                        {
                            int hh = p * stride.H - pad.H + r * dilation.H, ww = q * stride.W - pad.W + s * dilation.W;
                            if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                            int at = (pl * h + hh) * w + ww;
                            if (first < 0 || data[at] > data[first]) (first, count) = (at, 1);
                            else if (data[at] == data[first]) count++;
                        }
                    winners[(pl * oh + p) * ow + q] = first;
                    if (count > 1) ties++;
                }
        Assert.True(ties >= 3, $"{name}: the drawing should tie some windows, got {ties}");

        // loss = sum(tanh(y) v): dL/dx = scatter(v (1 - tanh^2 y)); along u, the derivative of that gradient is
        // scatter(v (-2 tanh y (1 - tanh^2 y)) u[winner]) at the same winners.
        var v = Tensor.RandN(new Generator(4), y.ShapeArray());
        var u = Tensor.RandN(new Generator(5), shape);
        var first1 = Autograd.Grad([(y.Tanh() * v).Sum()], [x], createGraph: true)[0]!;
        var second = Autograd.Grad([(first1 * u).Sum()], [x])[0]!;
        var (vs, us) = (v.ToArray(), u.ToArray());
        var expectedFirst = new double[data.Length];
        var expectedSecond = new double[data.Length];
        for (int o = 0; o < winners.Length; o++)
        {
            double t = Math.Tanh(expectedY.Data[o]);
            expectedFirst[winners[o]] += vs[o] * (1 - t * t);
            expectedSecond[winners[o]] += vs[o] * -2 * t * (1 - t * t) * us[winners[o]];
        }
        Numeric.AssertClose(expectedFirst, first1.ToArray(), 1e-6, $"{name} gradient");
        Numeric.AssertClose(expectedSecond, second.ToArray(), 1e-5, $"{name} second-order gradient");
    }

    /// <summary>PyTorch's values for all-equal windows: max_pool2d(ones(1, 1, 3, 3), 2, 1).sum().backward().</summary>
    [Fact]
    public void MaxPoolOfEqualValues_GivesEachWindowsGradientToItsTopLeft()
    {
        var x = Tensor.Ones(1, 1, 3, 3).RequireGrad();
        x.MaxPool2d(2, 1).Sum().Backward();
        Assert.Equal([1f, 1, 0, 1, 1, 0, 0, 0, 0], x.Grad!.ToArray());
    }

    /// <summary>Output sizes as PyTorch computes them (values from torch.nn.functional on the same shapes).</summary>
    [Theory]
    [InlineData(5, 2, 2, 0, 1, false, 2)]
    [InlineData(5, 2, 2, 0, 1, true, 3)]
    [InlineData(5, 2, 2, 1, 1, true, 3)]   // the fourth window would start in the right padding: dropped
    [InlineData(6, 3, 2, 1, 1, true, 4)]
    [InlineData(6, 3, 2, 1, 1, false, 3)]
    [InlineData(7, 3, 3, 0, 1, true, 3)]
    [InlineData(8, 3, 1, 1, 2, false, 6)]
    [InlineData(10, 3, 3, 1, 2, true, 4)]
    public void OutputSizes_MatchPyTorch(int size, int kernel, int stride, int pad, int dilation, bool ceil, int expected)
    {
        var y = Tensor.Zeros(1, 1, size, 3).MaxPool2d((kernel, 1), (stride, 1), (pad, 0), (dilation, 1), ceil);
        Assert.Equal([1, 1, expected, 3], y.ShapeArray());
        if (dilation == 1) Assert.Equal(expected, Tensor.Zeros(1, 1, 3, size).AvgPool2d((1, kernel), (1, stride), (0, pad), ceil).Shape[3]);
    }

    /// <summary>count_include_pad on a corner window: PyTorch's avg_pool2d(ones(1, 1, 3, 3), 3, 2, 1) is 4/9 with padding counted, 1 without.</summary>
    [Fact]
    public void AvgPoolDivisor_CountsPaddingOnlyWhenAsked()
    {
        var x = Tensor.Ones(1, 1, 3, 3);
        Assert.Equal([4f / 9, 4f / 9, 4f / 9, 4f / 9], x.AvgPool2d(3, 2, 1).ToArray());
        Assert.Equal([1f, 1, 1, 1], x.AvgPool2d(3, 2, 1, countIncludePad: false).ToArray());
        // Ceil mode: a 2x2 window at the bottom-right of a 3x3 input with no padding covers one pixel, whatever the flag.
        Assert.Equal([1f, 1, 1, 1], x.AvgPool2d(2, ceilMode: true).ToArray());
    }

    [Fact]
    public void Layers_PassTheirOptions_AndDescribeThemselves()
    {
        var x = Tensor.RandN(new Generator(1), [2, 3, 7, 6]);
        var maxLayer = new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), ceilMode: true);
        Assert.Equal(x.MaxPool2d((3, 2), (2, 1), (1, 0), (1, 2), true).ToArray(), maxLayer.Call(x).ToArray());
        Assert.Equal("MaxPool2d(3x2, stride=2x1, padding=1x0, dilation=1x2, ceil_mode=True)", maxLayer.Describe());
        var avgLayer = new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false);
        Assert.Equal(x.AvgPool2d(3, 2, 1, true, false).ToArray(), avgLayer.Call(x).ToArray());
        Assert.Equal("AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", avgLayer.Describe());
        Assert.Equal("MaxPool2d(2)", new MaxPool2d(2).Describe());
        Assert.Equal("AvgPool2d(2)", new AvgPool2d(2).Describe());
    }

    private static void Throws(Action act, params string[] fragments)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void BadArguments_FailWithTheOpTheValuesAndTheRule()
    {
        var x = Tensor.Zeros(1, 2, 4, 5);
        Throws(() => x.MaxPool2d(2, padding: 2), "MaxPool2d", "padding 2", "half the kernel 2");
        Throws(() => x.AvgPool2d((3, 2), padding: (1, 2)), "AvgPool2d", "padding 1x2", "half the kernel 3x2");
        Throws(() => x.MaxPool2d(2, 0), "MaxPool2d", "stride", "positive", "0");
        Throws(() => x.AvgPool2d((0, 2)), "AvgPool2d", "kernel size", "0x2");
        Throws(() => x.MaxPool2d(2, dilation: 0), "MaxPool2d", "dilation", "positive");
        Throws(() => x.MaxPool2d(2, 1, dilation: 4), "MaxPool2d", "spanning 5x5", "[1, 2, 4, 5]");
        Throws(() => x.AvgPool2d((5, 2)), "AvgPool2d", "does not fit", "[1, 2, 4, 5]");
        Throws(() => Tensor.Zeros(2, 4, 5).MaxPool2d(2), "MaxPool2d", "N x C x H x W", "[2, 4, 5]");
    }
}
