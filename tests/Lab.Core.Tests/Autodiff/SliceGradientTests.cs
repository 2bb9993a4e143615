namespace Lab.Core.Tests.Autodiff;

/// <summary>
/// The engine adds a Select's first-order gradient into its input's buffer in place (a recurrent layer's T slices of one
/// projection); with createGraph the recorded rule runs. Both must give the gradients written out here by hand, and the
/// in-place buffer must never be one that another tensor's gradient shares.
/// </summary>
public class SliceGradientTests
{
    private static Tensor Ramp(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, n).Select(i => 0.1f * i - 1f).ToArray(), shape);
    }

    /// <summary>y = Σ_t w_t · sum(x[t]) + sum(x²) + sum(x[2]²): dy/dx[t] = w_t + 2x[t] (+ 2x[2] at t = 2).</summary>
    private static Tensor Loss(Tensor x, float[] w)
    {
        var y = (x * x).Sum() + x.Select(2).Square().Sum();
        for (int t = 0; t < w.Length; t++) y = y + x.Select(t).Sum() * w[t];
        return y;
    }

    private static float[] Expected(float[] x, float[] w, int per)
    {
        var g = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int t = i / per;
            g[i] = w[t] + 2 * x[i] + (t == 2 ? 2 * x[i] : 0);
        }
        return g;
    }

    [Fact]
    public void ManySlicesOfOneTensorSumTheirGradients()
    {
        float[] w = [0.5f, -1f, 2f, 3f, -0.25f];
        var x = Ramp(5, 3, 4).RequireGrad();
        Loss(x, w).Backward();
        Assert.Equal(Expected(x.ToArray(), w, 12), x.Grad!.ToArray(), Tolerance(1e-5f));

        var first = Autograd.Grad(Loss(x, w), x)!;
        var recorded = Autograd.Grad(Loss(x, w), x, createGraph: true)!;
        Assert.Equal(Expected(x.ToArray(), w, 12), first.ToArray(), Tolerance(1e-5f));
        Assert.Equal(Expected(x.ToArray(), w, 12), recorded.ToArray(), Tolerance(1e-5f));

        // Second order through the recorded rule: d/dx sum(dy/dx) = 2 everywhere, 4 in slice 2.
        var second = Autograd.Grad(recorded.Sum(), x)!.ToArray();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => i / 12 == 2 ? 4f : 2f).ToArray(), second, Tolerance(1e-5f));
    }

    [Fact]
    public void ASharedPassThroughGradientIsCopiedBeforeASliceAddsIntoIt()
    {
        // Add hands the same gradient tensor to both inputs; a slice of x then adds into x's gradient, which must not
        // change c's. Both orders of the two uses.
        foreach (bool sliceFirst in new[] { false, true })
        {
            var x = Ramp(3, 2).RequireGrad();
            var c = Tensor.Zeros(3, 2).RequireGrad();
            var viaAdd = (x + c).Select(0).Sum();
            var direct = x.Select(1).Sum() * 3f;
            (sliceFirst ? direct + viaAdd : viaAdd + direct).Backward();
            Assert.Equal([1f, 1f, 3f, 3f, 0f, 0f], x.Grad!.ToArray());
            Assert.Equal([1f, 1f, 0f, 0f, 0f, 0f], c.Grad!.ToArray());
        }
    }

    [Fact]
    public void ASliceOfAnIntermediateReachesTheLeafOnce()
    {
        // p = 2x is sliced twice; p's gradient buffer is then handed to Mul's rule (and no longer added into).
        var x = Ramp(4, 3).RequireGrad();
        var p = x * 2f;
        (p.Select(1).Sum() + p.Select(1).Sum() + p.Select(3).Square().Sum() + p.Sum()).Backward();
        var xs = x.ToArray();
        var expected = Enumerable.Range(0, 12).Select(i => 2f * (1 + (i / 3 == 1 ? 2 : 0) + (i / 3 == 3 ? 2 * 2 * xs[i] : 0))).ToArray();
        Assert.Equal(expected, x.Grad!.ToArray(), Tolerance(1e-5f));
    }

    private static IEqualityComparer<float> Tolerance(float eps) => new Near(eps);

    private sealed class Near(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= eps * Math.Max(1, Math.Abs(b));
        public int GetHashCode(float f) => 0;
    }
}
