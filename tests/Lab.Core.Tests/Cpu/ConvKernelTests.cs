using Lab.Core.Backends;
using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The CPU backend's im2col/GEMM convolutions against the direct loops of <see cref="NaiveConv"/>, forward, input
/// gradient and weight gradient: every small geometry (kernels 1, 3, 5; strides 1, 2; padding 0, 1, 2; one channel;
/// odd and non-square sizes; batches of 1 and 3), asymmetric ones, dilated, grouped and unevenly padded ones, the
/// seed models' layers, and larger layers under every chunking and threading choice. Outputs start as NaN, so a kernel that skips an element fails.
/// The AVX2 and scalar fallbacks run when the suite is run with DOTNET_EnableAVX512=0 (and DOTNET_EnableAVX2=0).
/// </summary>
public class ConvKernelTests
{
    public static IEnumerable<ConvGeometry> SmallGeometries()
    {
        foreach (int n in new[] { 1, 3 })
            foreach (int c in new[] { 1, 2 })
                foreach (int k in new[] { 1, 3 })
                    foreach (var (h, w) in new[] { (5, 5), (7, 6), (8, 8), (3, 9) })
                        foreach (int kernel in new[] { 1, 3, 5 })
                            foreach (int stride in new[] { 1, 2 })
                                foreach (int pad in new[] { 0, 1, 2 })
                                    if (h + 2 * pad >= kernel && w + 2 * pad >= kernel)
                                        yield return new(n, c, h, w, k, kernel, kernel, stride, stride, pad, pad);
        // Unequal kernel sides, strides and paddings (ConvTranspose2d's output padding makes H and W differ too).
        yield return new(2, 2, 7, 9, 3, 3, 1, 2, 1, 1, 0);
        yield return new(2, 3, 6, 5, 2, 1, 3, 1, 2, 0, 1);
        yield return new(3, 2, 9, 7, 4, 2, 2, 2, 2, 0, 0);
        yield return new(1, 1, 4, 11, 2, 2, 4, 1, 3, 1, 2);
        // Dilation, groups (depthwise and grouped pointwise too), and uneven bottom/right padding: one more row or
        // column for "same" with an even kernel, fewer for a transposed convolution's output padding.
        yield return new(2, 4, 9, 8, 6, 3, 3, 1, 1, 1, 1, DilationH: 2, DilationW: 2);
        yield return new(2, 3, 10, 7, 4, 3, 2, 2, 1, 2, 0, DilationH: 3, DilationW: 2);
        yield return new(3, 4, 7, 7, 6, 3, 3, 1, 1, 1, 1, Groups: 2);
        yield return new(2, 6, 8, 9, 6, 3, 3, 2, 1, 1, 1, Groups: 6);
        yield return new(2, 6, 8, 9, 12, 3, 3, 1, 1, 1, 1, Groups: 6);
        yield return new(2, 4, 6, 6, 8, 1, 1, 1, 1, 0, 0, Groups: 4);
        yield return new(1, 4, 6, 5, 8, 1, 1, 1, 1, 0, 0, Groups: 2);
        yield return new(2, 2, 6, 7, 3, 2, 4, 1, 1, 0, 1, ExtraPadH: 1, ExtraPadW: 1);
        yield return new(2, 2, 8, 9, 3, 3, 3, 2, 2, 1, 1, ExtraPadH: -1, ExtraPadW: -1);
        yield return new(2, 3, 9, 10, 6, 2, 2, 1, 1, 0, 0, DilationH: 3, DilationW: 3, Groups: 3, ExtraPadH: -1, ExtraPadW: -2);
        yield return new(2, 2, 7, 7, 2, 1, 1, 1, 1, 0, 0, DilationH: 2, DilationW: 2, ExtraPadH: -1, ExtraPadW: -1);
    }

    /// <summary>The seed models' layers (see Lab.Bench ConvShapes) and larger ones that cross the threading and chunking thresholds.</summary>
    public static readonly ConvGeometry[] LargerGeometries =
    [
        new(10, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0), new(10, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0), new(10, 8, 4, 4, 8, 3, 3, 1, 1, 0, 0),
        new(32, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0), new(32, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0), new(32, 64, 5, 5, 64, 3, 3, 1, 1, 0, 0),
        new(16, 8, 5, 5, 16, 2, 2, 1, 1, 0, 0), new(16, 4, 6, 6, 8, 2, 2, 1, 1, 0, 0), new(16, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0),
        new(5, 16, 12, 12, 16, 3, 3, 2, 2, 1, 1), new(3, 32, 8, 8, 48, 1, 1, 1, 1, 0, 0), new(7, 24, 3, 3, 8, 1, 1, 1, 1, 0, 0),
        new(7, 2, 28, 28, 8, 5, 5, 1, 1, 2, 2), new(33, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1), new(1, 16, 30, 30, 32, 3, 3, 1, 1, 1, 1),
        new(8, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1, Groups: 16), new(6, 8, 10, 10, 12, 3, 3, 1, 1, 2, 2, DilationH: 2, DilationW: 2, Groups: 2),
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SmallGeometries_MatchNaive(int threads)
    {
        var rng = new Random(3);
        // Two threads: split even the tiniest layer over the pool, so every geometry also runs batch-parallel.
        With(threads, chunkFloats: ConvGemm.ChunkFloats, minMacs: threads > 1 ? 1 : ConvGemm.MinMacsForThreads, () =>
        {
            foreach (var g in SmallGeometries())
                Check(rng, g, bias: (g.H + g.K) % 2 == 0);
        });
    }

    [Theory]
    [InlineData(1, 0)]          // one sample per GEMM
    [InlineData(1, 3000)]       // a few samples per GEMM, a ragged last chunk
    [InlineData(2, 0)]
    [InlineData(2, 3000)]
    [InlineData(2, 128 * 1024)] // the default
    [InlineData(2, 1 << 26)]    // the whole (half) batch in one GEMM
    public void LargerGeometries_EveryChunking_MatchNaive(int threads, int chunkFloats)
    {
        var rng = new Random(5);
        With(threads, chunkFloats, minMacs: 1, () =>
        {
            foreach (var g in LargerGeometries) Check(rng, g, bias: true);
        });
    }

    [Fact]
    public void DefaultSettings_MatchNaive()
    {
        var rng = new Random(8);
        foreach (var g in LargerGeometries) Check(rng, g, bias: g.K % 2 == 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void WeightGradientOrientations_MatchNaive(int orientation)
    {
        var rng = new Random(11);
        int saved = ConvGemm.GradWeightOrientation;
        ConvGemm.GradWeightOrientation = orientation;
        try
        {
            foreach (var g in LargerGeometries.Take(6)) Check(rng, g, bias: false);
        }
        finally { ConvGemm.GradWeightOrientation = saved; }
    }

    /// <summary>The plan depends on the shape only, so one and two threads give the same bits (reproducible training).</summary>
    [Fact]
    public void OneAndTwoThreads_GiveIdenticalResults()
    {
        var rng = new Random(12);
        foreach (var g in LargerGeometries)
        {
            var x = T(Values(rng, g.N * g.C * g.H * g.W), g.N, g.C, g.H, g.W);
            var w = T(Values(rng, g.K * g.GroupCrs), g.K, g.GroupC, g.R, g.S);
            var dy = T(Values(rng, g.N * g.K * g.OutH * g.OutW), g.N, g.K, g.OutH, g.OutW);
            float[][] Run(int threads)
            {
                var (y, dx, dw) = (NaNs([g.N, g.K, g.OutH, g.OutW]), NaNs([g.N, g.C, g.H, g.W]), NaNs([g.K, g.GroupC, g.R, g.S]));
                GemmTests.WithThreads(threads, () =>
                {
                    CpuBackend.Instance.Conv2d(x, w, default, y, g);
                    CpuBackend.Instance.Conv2dGradInput(dy, w, dx, g);
                    CpuBackend.Instance.Conv2dGradWeight(x, dy, dw, g);
                });
                return [y.ToArray(), dx.ToArray(), dw.ToArray()];
            }
            var (one, two) = (Run(1), Run(2));
            for (int i = 0; i < 3; i++) Assert.True(one[i].SequenceEqual(two[i]), $"{g}: pass {i} differs between 1 and 2 threads");
        }
    }

    /// <summary>
    /// Single-channel layers (every seed CNN's first) take the direct kernel; it sums the taps as the GEMM does, so
    /// switching paths changes no bit of any result (seeded experiments stay reproducible).
    /// </summary>
    [Fact]
    public void SingleChannelDirectKernel_MatchesTheGemmPathBitForBit()
    {
        var rng = new Random(13);
        ConvGeometry[] shapes =
        [
            new(32, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0), new(10, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0), new(3, 1, 9, 40, 5, 5, 5, 1, 1, 0, 0),
            new(2, 1, 3, 3, 7, 3, 3, 1, 1, 0, 0), new(4, 1, 20, 17, 6, 1, 2, 1, 1, 0, 0), new(1, 1, 5, 18, 3, 2, 2, 1, 1, 0, 0),
        ];
        foreach (var g in shapes)
            foreach (bool bias in new[] { false, true })
            {
                Assert.True(DirectConv.Applies(g), g.ToString());
                var x = T(Values(rng, g.N * g.H * g.W), g.N, 1, g.H, g.W);
                var w = T(Values(rng, g.K * g.R * g.S), g.K, 1, g.R, g.S);
                var b = bias ? T(Values(rng, g.K), g.K) : null;
                var (direct, gemm) = (NaNs([g.N, g.K, g.OutH, g.OutW]), NaNs([g.N, g.K, g.OutH, g.OutW]));
                CpuBackend.Instance.Conv2d(x, w, b, direct, g);
                ConvGemm.ForceGemm = true;
                try { CpuBackend.Instance.Conv2d(x, w, b, gemm, g); }
                finally { ConvGemm.ForceGemm = false; }
                Assert.True(direct.ToArray().SequenceEqual(gemm.ToArray()), $"{g} bias={bias}: direct and GEMM paths differ");
            }
        Assert.False(DirectConv.Applies(new ConvGeometry(2, 2, 8, 8, 4, 3, 3, 1, 1, 0, 0)));   // two channels: GEMM
        Assert.False(DirectConv.Applies(new ConvGeometry(2, 1, 8, 8, 4, 3, 3, 2, 2, 0, 0)));   // strided: GEMM
        Assert.False(DirectConv.Applies(new ConvGeometry(2, 1, 8, 8, 4, 3, 3, 1, 1, 1, 1)));   // padded: GEMM
        Assert.False(DirectConv.Applies(new ConvGeometry(2, 1, 8, 8, 4, 2, 2, 1, 1, 0, 0, ExtraPadH: 1, ExtraPadW: 1))); // "same", even kernel
        Assert.False(DirectConv.Applies(new ConvGeometry(2, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0, DilationH: 2, DilationW: 2))); // dilated
    }

    [Fact]
    public void EmptyBatch_ZeroesWeightGradient()
    {
        var g = new ConvGeometry(0, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0);
        var dw = Tensor.FromArray(Enumerable.Repeat(float.NaN, 54).ToArray(), [3, 2, 3, 3]);
        CpuBackend.Instance.Conv2dGradWeight(Tensor.Empty([0, 2, 5, 5]), Tensor.Empty([0, 3, 3, 3]), dw, g);
        Assert.All(dw.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ChannelSum_MatchesLoop()
    {
        var rng = new Random(4);
        foreach (var (n, c, spatial) in new[] { (1, 1, 1), (3, 5, 4), (2, 7, 33), (10, 8, 4), (32, 64, 9), (16, 16, 16), (5, 3, 17), (4, 2, 64), (3, 2, 65), (2, 3, 100), (0, 3, 4) })
        {
            var dy = Values(rng, n * c * spatial);
            var expected = new double[c];
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                    for (int s = 0; s < spatial; s++) expected[ch] += dy[(i * c + ch) * spatial + s];
            var db = Tensor.FromArray(Enumerable.Repeat(float.NaN, c).ToArray(), [c]);
            CpuBackend.Instance.ChannelSum(Tensor.FromArray(dy, [n, c, spatial]), db, n, c, spatial);
            Numeric.AssertClose(expected, db.ToArray(), 1e-5, $"ChannelSum n={n} c={c} spatial={spatial}");
        }
    }

    private static void Check(Random rng, ConvGeometry g, bool bias)
    {
        int oh = g.OutH, ow = g.OutW;
        var x = Values(rng, g.N * g.C * g.H * g.W);
        var w = Values(rng, g.K * g.GroupCrs);
        var b = bias ? Values(rng, g.K) : [];
        var dy = Values(rng, g.N * g.K * oh * ow);
        var be = CpuBackend.Instance;
        string what = $"{g} bias={bias} threads={Gemm.MaxThreads} chunk={ConvGemm.ChunkFloats}";

        var expected = new float[dy.Length];
        NaiveConv.Conv2d(x, w, b, expected, g);
        var y = NaNs([g.N, g.K, oh, ow]);
        be.Conv2d(T(x, g.N, g.C, g.H, g.W), T(w, g.K, g.GroupC, g.R, g.S), bias ? Tensor.FromArray(b, [g.K]) : null, y, g);
        Numeric.AssertClose(expected, y.ToArray(), 1e-4, what + " forward");

        expected = new float[x.Length];
        NaiveConv.Conv2dGradInput(dy, w, expected, g);
        var dx = NaNs([g.N, g.C, g.H, g.W]);
        be.Conv2dGradInput(T(dy, g.N, g.K, oh, ow), T(w, g.K, g.GroupC, g.R, g.S), dx, g);
        Numeric.AssertClose(expected, dx.ToArray(), 1e-4, what + " input gradient");

        expected = new float[w.Length];
        NaiveConv.Conv2dGradWeight(x, dy, expected, g);
        var dw = NaNs([g.K, g.GroupC, g.R, g.S]);
        be.Conv2dGradWeight(T(x, g.N, g.C, g.H, g.W), T(dy, g.N, g.K, oh, ow), dw, g);
        // Sums over N OH OW terms, in a different order: scale the tolerance with the term count.
        Numeric.AssertClose(expected, dw.ToArray(), 2e-5 * Math.Sqrt(g.N * oh * ow) + 1e-5, what + " weight gradient");
    }

    private static void With(int threads, int chunkFloats, long minMacs, Action body)
    {
        var (savedChunk, savedMacs) = (ConvGemm.ChunkFloats, ConvGemm.MinMacsForThreads);
        ConvGemm.ChunkFloats = chunkFloats;
        ConvGemm.MinMacsForThreads = minMacs;
        try { GemmTests.WithThreads(threads, body); }
        finally { (ConvGemm.ChunkFloats, ConvGemm.MinMacsForThreads) = (savedChunk, savedMacs); }
    }

    internal static float[] Values(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static Tensor T(float[] data, params int[] shape) => Tensor.FromArray(data, shape);

    internal static Tensor NaNs(int[] shape) =>
        Tensor.FromArray(Enumerable.Repeat(float.NaN, shape.Aggregate(1, (a, b) => a * b)).ToArray(), shape);
}
