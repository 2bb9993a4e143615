using Lab.Core.Backends;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// Pooling kernels against the direct loops of <see cref="NaiveConv"/>: kernels 1 to 3, strides 1 to 3, padding up
/// to half the kernel, odd and wide planes (the 2x2 stride 2 vector path crosses 16-output blocks at width 70),
/// on inputs full of ties and NaNs so the argmax rule (first maximum, last NaN) is checked exactly; then PyTorch's
/// options (ceil mode, both average divisors, per-axis windows, dilation) and the gather at the argmax.
/// </summary>
public class PoolKernelTests
{
    public static IEnumerable<PoolGeometry> Geometries()
    {
        foreach (int n in new[] { 1, 2 })
            foreach (int c in new[] { 1, 3 })
                foreach (var (h, w) in new[] { (4, 6), (5, 5), (7, 3), (26, 26), (11, 11), (9, 70), (2, 33) })
                    foreach (int kernel in new[] { 1, 2, 3 })
                        foreach (int stride in new[] { 1, 2, 3 })
                            for (int pad = 0; 2 * pad <= kernel; pad++)
                                if (h + 2 * pad >= kernel && w + 2 * pad >= kernel)
                                    yield return new(n, c, h, w, kernel, kernel, stride, stride, pad, pad);
        yield return new(2, 2, 7, 9, 3, 2, 2, 1, 1, 0);
        yield return new(32, 32, 26, 26, 2, 2, 2, 2, 0, 0);
        // PyTorch's options: ceil mode (a 2x2 stride 2 pool on odd sizes must leave the vector path), both
        // average divisors, per-axis windows.
        foreach (bool include in new[] { true, false })
        {
            yield return new(2, 3, 9, 70, 2, 2, 2, 2, 0, 0, CeilMode: true, CountIncludePad: include);
            yield return new(1, 2, 8, 6, 2, 2, 2, 2, 0, 0, CeilMode: true, CountIncludePad: include);
            yield return new(2, 2, 6, 5, 3, 3, 2, 2, 1, 1, CeilMode: true, CountIncludePad: include);
            yield return new(1, 3, 5, 11, 3, 2, 2, 3, 1, 1, CeilMode: true, CountIncludePad: include);
            yield return new(2, 1, 7, 7, 3, 3, 2, 2, 1, 1, CountIncludePad: include);
            yield return new(1, 2, 4, 9, 2, 3, 1, 2, 1, 1, CountIncludePad: include);
        }
    }

    /// <summary>Max pooling also takes a dilation (windows with taps spaced apart; a window may have no tap inside the input).</summary>
    public static IEnumerable<PoolGeometry> DilatedGeometries()
    {
        yield return new(2, 2, 7, 8, 3, 3, 2, 1, 1, 1, DilationH: 2, DilationW: 1);
        yield return new(1, 3, 9, 9, 2, 2, 1, 1, 1, 1, DilationH: 3, DilationW: 3);
        yield return new(1, 2, 10, 7, 3, 2, 3, 2, 1, 0, DilationH: 2, DilationW: 3, CeilMode: true);
        yield return new(1, 1, 1, 1, 2, 2, 1, 1, 1, 1, DilationH: 2, DilationW: 2); // taps at -1 and 1: none inside
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaxPool_ValuesIndicesAndGradient_MatchNaive(bool nans)
    {
        var rng = new Random(nans ? 2 : 1);
        var be = CpuBackend.Instance;
        foreach (var g in Geometries().Concat(DilatedGeometries()))
        {
            var x = Ties(rng, g.N * g.C * g.H * g.W, nans);
            int outputs = g.N * g.C * g.OutH * g.OutW;
            var expectedY = new float[outputs];
            var expectedIdx = new float[outputs];
            NaiveConv.MaxPool2d(x, expectedY, expectedIdx, g);
            var y = ConvKernelTests.NaNs([g.N, g.C, g.OutH, g.OutW]);
            var idx = ConvKernelTests.NaNs([g.N, g.C, g.OutH, g.OutW]);
            be.MaxPool2d(Tensor.FromArray(x, [g.N, g.C, g.H, g.W]), y, idx, g);
            Assert.True(expectedIdx.SequenceEqual(idx.ToArray()), $"{g}: argmax indices differ");
            Assert.True(expectedY.SequenceEqual(y.ToArray()), $"{g}: maxima differ"); // NaN equals NaN here

            var dy = ConvKernelTests.Values(rng, outputs);
            var expectedDx = new float[x.Length];
            NaiveConv.MaxPool2dGrad(dy, expectedIdx, expectedDx, g);
            var dx = ConvKernelTests.NaNs([g.N, g.C, g.H, g.W]);
            be.MaxPool2dGrad(Tensor.FromArray(dy, [g.N, g.C, g.OutH, g.OutW]), idx, dx, g);
            Assert.True(expectedDx.SequenceEqual(dx.ToArray()), $"{g}: max-pool gradient differs");

            var gathered = ConvKernelTests.NaNs([g.N, g.C, g.OutH, g.OutW]);
            var expectedGathered = new float[outputs];
            NaiveConv.MaxPool2dGather(dx.ToArray(), expectedIdx, expectedGathered, g);
            be.MaxPool2dGather(dx, idx, gathered, g);
            Assert.True(expectedGathered.SequenceEqual(gathered.ToArray()), $"{g}: gather at the argmax differs");
        }
    }

    [Fact]
    public void EveryGeometry_SplitOverTwoThreads_MatchesNaive()
    {
        // Pooling splits by planes from a size threshold; at 1 float every geometry is split.
        long saved = Lab.Core.Cpu.Pooling.MinFloatsForThreads;
        Lab.Core.Cpu.Pooling.MinFloatsForThreads = 1;
        try
        {
            GemmTests.WithThreads(2, () =>
            {
                MaxPool_ValuesIndicesAndGradient_MatchNaive(nans: true);
                AvgPool_ValuesAndGradient_MatchNaive();
            });
        }
        finally { Lab.Core.Cpu.Pooling.MinFloatsForThreads = saved; }
    }

    [Fact]
    public void AvgPool_ValuesAndGradient_MatchNaive()
    {
        var rng = new Random(6);
        var be = CpuBackend.Instance;
        foreach (var g in Geometries())
        {
            var x = ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W);
            int outputs = g.N * g.C * g.OutH * g.OutW;
            var expected = new float[outputs];
            NaiveConv.AvgPool2d(x, expected, g);
            var y = ConvKernelTests.NaNs([g.N, g.C, g.OutH, g.OutW]);
            be.AvgPool2d(Tensor.FromArray(x, [g.N, g.C, g.H, g.W]), y, g);
            Numeric.AssertClose(expected, y.ToArray(), 1e-6, $"{g} average");

            var dy = ConvKernelTests.Values(rng, outputs);
            var expectedDx = new float[x.Length];
            NaiveConv.AvgPool2dGrad(dy, expectedDx, g);
            var dx = ConvKernelTests.NaNs([g.N, g.C, g.H, g.W]);
            be.AvgPool2dGrad(Tensor.FromArray(dy, [g.N, g.C, g.OutH, g.OutW]), dx, g);
            Numeric.AssertClose(expectedDx, dx.ToArray(), 1e-6, $"{g} average gradient");
        }
    }

    /// <summary>Values from a set of five (ties everywhere), with some NaNs and infinities when asked.</summary>
    private static float[] Ties(Random rng, int count, bool nans)
    {
        float[] choices = nans ? [-1f, 0f, 0.5f, float.NaN, float.NegativeInfinity] : [-1f, 0f, 0.5f, 1f, -0.25f];
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = choices[rng.Next(choices.Length)];
        return v;
    }
}
