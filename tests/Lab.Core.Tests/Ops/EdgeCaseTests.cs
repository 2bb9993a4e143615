using Lab.Core.Autodiff;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// The decided edge cases (NaN, ties, bounds, empty tensors, far tails), each against PyTorch's convention as
/// the op's summary states it. Gradients are checked on both paths: the fused first-order kernel and the
/// recorded rule that createGraph uses, which must agree.
/// </summary>
public class EdgeCaseTests
{
    private const float NaN = float.NaN;

    /// <summary>d sum(op(x))/dx on the fused path and on the recorded (createGraph) path.</summary>
    private static (float[] Fused, float[] Recorded) Gradients(Func<Tensor, Tensor> op, params float[] x)
    {
        var a = Tensor.FromArray(x).RequireGrad();
        var fused = Autograd.Grad(op(a).Sum(), a)!.ToArray();
        var b = Tensor.FromArray(x).RequireGrad();
        var recorded = Autograd.Grad(op(b).Sum(), b, createGraph: true)!.ToArray();
        return (fused, recorded);
    }

    private static void AssertBothPaths(float[] expected, (float[] Fused, float[] Recorded) grads, string what)
    {
        Assert.True(expected.SequenceEqual(grads.Fused), $"{what} (fused): expected [{string.Join(", ", expected)}], got [{string.Join(", ", grads.Fused)}]");
        Assert.True(expected.SequenceEqual(grads.Recorded), $"{what} (recorded): expected [{string.Join(", ", expected)}], got [{string.Join(", ", grads.Recorded)}]");
    }

    [Theory]
    [InlineData(-20.0)]
    [InlineData(-27.0)]
    [InlineData(-30.0)]
    [InlineData(-37.0)]
    [InlineData(-40.0)]
    [InlineData(-60.0)]
    [InlineData(-85.0)]
    public void SoftplusKeepsRelativeAccuracyFarBelowZero(double x)
    {
        // softplus(x) = log1p(exp(x)) and its derivative sigmoid(x) are both exp(x) (1 + O(exp(x))) here.
        var t = Tensor.FromArray((float)x).RequireGrad();
        var y = t.Softplus();
        double e = Math.Exp(x), expected = e - e * e / 2;   // log1p's series; the next term is below 1e-26 relative
        double got = y.Item();
        Assert.True(Math.Abs(got - expected) <= 1e-6 * expected, $"Softplus({x}): expected {expected:E9}, got {got:E9}");
        double grad = Autograd.Grad(y.Sum(), t)!.Item();
        double sigmoid = 1 / (1 + Math.Exp(-x));
        Assert.True(Math.Abs(grad - sigmoid) <= 1e-5 * sigmoid, $"Softplus'({x}): expected {sigmoid:E9}, got {grad:E9}");
    }

    [Fact]
    public void SoftplusIsBitIdenticalToItsEarlierFormWhereThatWasExact()
    {
        // Seeds' runs depend on these values: only the far tail (x below about -13.8) changed.
        var x = Enumerable.Range(0, 2701).Select(i => -13.5f + i * 0.01f).ToArray();
        var earlier = x.Select(v => MathF.Max(v, 0) + (float)Math.Log(1 + Math.Exp(-Math.Abs(v)))).ToArray();
        Assert.Equal(earlier, Tensor.FromArray(x).Softplus().ToArray());
    }

    [Fact]
    public void SoftplusStaysExactForLargePositiveInputs()
    {
        var y = Tensor.FromArray(30f, 100f, 1000f).Softplus().ToArray();
        Assert.Equal([30f, 100f, 1000f], y);
    }

    [Fact]
    public void ReluKeepsNaNAndPassesItsGradientLikeThresholdBackward()
    {
        Assert.True(float.IsNaN(Tensor.FromArray(NaN).Relu().Item()));
        // PyTorch: threshold_backward(grad, result, 0) = result <= 0 ? 0 : grad, so NaN passes the gradient; 0 at 0.
        AssertBothPaths([1f, 0f, 0f, 1f], Gradients(t => t.Relu(), NaN, -1f, 0f, 2f), "Relu'");
    }

    [Fact]
    public void ReluGradientAtNaNPassesInTheVectorisedBodyToo()
    {
        // 37 elements: the vector loop and the scalar tail both see a NaN, a zero and a negative.
        var x = Enumerable.Range(0, 37).Select(i => (i % 5) switch { 0 => NaN, 1 => 0f, 2 => -1f, _ => i }).ToArray();
        var expected = x.Select(v => float.IsNaN(v) || v > 0 ? 1f : 0f).ToArray();
        AssertBothPaths(expected, Gradients(t => t.Relu(), x), "Relu' over 37 elements");
    }

    [Fact]
    public void LeakyReluGradientIsTheSlopeAtZeroAndNaN()
        => AssertBothPaths([0.25f, 0.25f, 0.25f, 1f], Gradients(t => t.LeakyRelu(0.25f), NaN, -1f, 0f, 2f), "LeakyRelu'");

    [Fact]
    public void AbsGradientIsZeroAtZeroAndNaN()
        => AssertBothPaths([0f, 0f, -1f, 1f], Gradients(t => t.Abs(), NaN, 0f, -2f, 3f), "Abs'");

    [Fact]
    public void ClampPassesTheGradientAtItsBoundsOnly()
    {
        Assert.True(float.IsNaN(Tensor.FromArray(NaN).Clamp(-1f, 1f).Item()));
        // PyTorch's clamp_backward: grad where min <= x <= max (bounds included), 0 outside and at NaN.
        AssertBothPaths([1f, 1f, 1f, 0f, 0f, 0f], Gradients(t => t.Clamp(-1f, 1f), -1f, 0.5f, 1f, 1.5f, -3f, NaN), "Clamp'");
    }

    [Fact]
    public void MaximumAndMinimumSplitTiesAndPassNaNToBoth()
    {
        float[] a = [1f, 2f, NaN, 3f], b = [1f, 3f, 0f, 2f];
        foreach (var createGraph in new[] { false, true })
        {
            var (ta, tb) = (Tensor.FromArray(a).RequireGrad(), Tensor.FromArray(b).RequireGrad());
            var max = Tensor.Maximum(ta, tb);
            Assert.True(float.IsNaN(max.ToArray()[2]));
            var g = Autograd.Grad([max.Sum()], [ta, tb], createGraph: createGraph);
            Assert.Equal([0.5f, 0f, 1f, 1f], g[0]!.ToArray());
            Assert.Equal([0.5f, 1f, 1f, 0f], g[1]!.ToArray());
            g = Autograd.Grad([Tensor.Minimum(ta, tb).Sum()], [ta, tb], createGraph: createGraph);
            Assert.Equal([0.5f, 1f, 1f, 0f], g[0]!.ToArray());
            Assert.Equal([0.5f, 0f, 1f, 1f], g[1]!.ToArray());
        }
    }

    [Fact]
    public void MaxOverARowWithNaNGivesTheGradientToTheNaNs()
    {
        var x = Tensor.FromArray(new float[] { 1, NaN, 3, 2, 5, 5, NaN, 0, NaN }, [3, 3]).RequireGrad();
        var y = x.Max(1);
        var values = y.ToArray();
        Assert.True(float.IsNaN(values[0]) && values[1] == 5f && float.IsNaN(values[2]));
        var g = Autograd.Grad(y.Sum(), x)!.ToArray();
        Assert.Equal([0f, 1f, 0f, 0f, 0.5f, 0.5f, 0.5f, 0f, 0.5f], g);

        var z = Tensor.FromArray(new float[] { 4, NaN, -3 }, [3]).RequireGrad();
        Assert.Equal([0f, 1f, 0f], Autograd.Grad(z.Min(0), z)!.ToArray());
    }

    [Fact]
    public void MeanOfNothingIsNaN()
    {
        var empty = Tensor.Zeros(0, 3).RequireGrad();
        Assert.True(float.IsNaN(empty.Mean().Item()));
        var perColumn = empty.Mean(0).ToArray();
        Assert.Equal(3, perColumn.Length);
        Assert.All(perColumn, v => Assert.True(float.IsNaN(v)));
        Assert.Empty(empty.Mean(1).ToArray());
        var g = Autograd.Grad(empty.Mean(), empty)!;
        Assert.Equal([0, 3], g.ShapeArray());
    }
}
