using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;
using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The batch-in-lanes kernels of tiny convolutions (<see cref="DirectConvLanes"/>), called directly on any batch, against
/// the direct loops of <see cref="NaiveConv"/>: batches of 1 to 33 (one lane, a ragged block, two and three blocks),
/// channels 1/3/5, planes 3x3 to 9x9, kernels 1 to 5, strides, paddings, dilations and uneven padding, sizes that are no
/// multiple of the 4 x 4 register tile or of 16 features. Outputs start as NaN, so a kernel that skips an element fails.
/// The forward pass must equal the GEMM path bit for bit; the dispatch must send the seed models' tiny layers here and
/// everything else to the GEMM.
/// </summary>
public class DirectConvLanesTests
{
    public static IEnumerable<ConvGeometry> Geometries()
    {
        var rng = new Random(21);
        foreach (int n in new[] { 1, 3, 16, 17 })
            foreach (int c in new[] { 1, 3, 5 })
                foreach (var (h, w) in new[] { (3, 3), (6, 6), (9, 7) })
                    foreach (var (kernel, stride, pad) in new[] { (3, 1, 0), (3, 1, 1), (1, 1, 0), (2, 2, 0), (3, 2, 1), (5, 1, 2) })
                        if (h + 2 * pad >= kernel && w + 2 * pad >= kernel)
                            yield return new(n, c, h, w, rng.Next(1, 7), kernel, kernel, stride, stride, pad, pad);
        // The seed models' layers (GAN/VAE batch 16, digits batch 10) and the transposed ones' adjoints.
        yield return new(16, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0);
        yield return new(16, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0);
        yield return new(16, 8, 4, 4, 16, 3, 3, 1, 1, 0, 0);
        yield return new(16, 8, 5, 5, 16, 2, 2, 1, 1, 0, 0);
        yield return new(16, 4, 6, 6, 8, 2, 2, 1, 1, 0, 0);
        yield return new(10, 8, 4, 4, 8, 3, 3, 1, 1, 0, 0);
        // Unequal sides, strides and paddings, dilation, "same" with an even kernel, and output padding (negative extra).
        yield return new(5, 2, 7, 9, 3, 3, 1, 2, 1, 1, 0);
        yield return new(4, 3, 6, 5, 2, 1, 3, 1, 2, 0, 1);
        yield return new(33, 2, 4, 11, 5, 2, 4, 1, 3, 1, 2);
        yield return new(7, 4, 9, 8, 6, 3, 3, 1, 1, 1, 1, DilationH: 2, DilationW: 2);
        yield return new(3, 3, 10, 7, 4, 3, 2, 2, 1, 2, 0, DilationH: 3, DilationW: 2);
        yield return new(6, 2, 6, 7, 3, 2, 4, 1, 1, 0, 1, ExtraPadH: 1, ExtraPadW: 1);
        yield return new(9, 2, 8, 9, 3, 3, 3, 2, 2, 1, 1, ExtraPadH: -1, ExtraPadW: -1);
        yield return new(2, 2, 7, 7, 2, 1, 1, 1, 1, 0, 0, DilationH: 2, DilationW: 2, ExtraPadH: -1, ExtraPadW: -1);
    }

    [Fact]
    public void EveryProduct_MatchesNaive()
    {
        if (!Avx512F.IsSupported) return;
        var rng = new Random(22);
        int count = 0;
        foreach (var g in Geometries())
        {
            Assert.True(DirectConvLanes.Fits(g), g.ToString());
            Check(rng, g, bias: count++ % 2 == 0);
        }
        Assert.True(count > 150, $"only {count} geometries");
    }

    /// <summary>The forward pass sums each output's taps in the GEMM's order and adds the bias last: the same bits.</summary>
    [Fact]
    public void Forward_MatchesTheGemmPathBitForBit()
    {
        if (!Avx512F.IsSupported) return;
        var rng = new Random(23);
        foreach (var g in Geometries())
        {
            var x = ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W);
            var w = ConvKernelTests.Values(rng, g.K * g.GroupCrs);
            var b = ConvKernelTests.Values(rng, g.K);
            var lanes = new float[g.N * g.K * g.OutH * g.OutW];
            var gemm = new float[lanes.Length];
            Array.Fill(lanes, float.NaN);
            Array.Fill(gemm, float.NaN);
            DirectConvLanesForward(x, w, b, lanes, g);
            // Single-channel layers take DirectConv there, itself the GEMM's bits (ConvKernelTests).
            GemmForward(x, w, b, gemm, g);
            Assert.True(lanes.SequenceEqual(gemm), $"{g}: lanes and GEMM forward differ");
        }
    }

    [Fact]
    public void Dispatch_TakesTheTinyLayersOnly()
    {
        if (!Avx512F.IsSupported) return;
        // GAN discriminator and generator, VAE, digits CNN (batch 10: 10 of 16 lanes).
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(16, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0)));
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(16, 8, 4, 4, 16, 3, 3, 1, 1, 0, 0)));
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(16, 8, 5, 5, 16, 2, 2, 1, 1, 0, 0)));
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(10, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0)));
        Assert.False(DirectConvLanes.Applies(new ConvGeometry(3, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0)));         // 3 of 16 lanes
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(17, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0)));          // 17 of 32
        // The op registry's Conv2dLanes and ConvTranspose2dLanes (gradients of every order checked there).
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(9, 2, 5, 4, 3, 3, 3, 2, 1, 1, 1)));
        Assert.True(DirectConvLanes.Applies(new ConvGeometry(8, 2, 6, 6, 3, 2, 2, 2, 2, 0, 0)));
        Assert.False(DirectConvLanes.Applies(new ConvGeometry(32, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0)));    // MNIST: the GEMM's
        Assert.False(DirectConvLanes.Applies(new ConvGeometry(16, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, Groups: 2)));
    }

    private static unsafe void Check(Random rng, ConvGeometry g, bool bias)
    {
        int oh = g.OutH, ow = g.OutW;
        var x = ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W);
        var w = ConvKernelTests.Values(rng, g.K * g.GroupCrs);
        var b = bias ? ConvKernelTests.Values(rng, g.K) : [];
        var dy = ConvKernelTests.Values(rng, g.N * g.K * oh * ow);
        string what = $"{g} bias={bias}";

        var expected = new float[dy.Length];
        NaiveConv.Conv2d(x, w, b, expected, g);
        var y = Enumerable.Repeat(float.NaN, dy.Length).ToArray();
        DirectConvLanesForward(x, w, bias ? b : null, y, g);
        Numeric.AssertClose(expected, y, 1e-5, what + " forward");

        expected = new float[x.Length];
        NaiveConv.Conv2dGradInput(dy, w, expected, g);
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Kernel(dy, w, dx, (a, b, c) => DirectConvLanes.GradInput(a, b, c, g));
        Numeric.AssertClose(expected, dx, 1e-5, what + " input gradient");

        expected = new float[w.Length];
        NaiveConv.Conv2dGradWeight(x, dy, expected, g);
        var dw = Enumerable.Repeat(float.NaN, w.Length).ToArray();
        Kernel(x, dy, dw, (a, b, c) => DirectConvLanes.GradWeight(a, b, c, g));
        Numeric.AssertClose(expected, dw, 2e-6 * Math.Sqrt(g.N * oh * ow) + 1e-6, what + " weight gradient");
    }

    private unsafe delegate void Product(float* a, float* b, float* c);

    private static unsafe void Kernel(float[] a, float[] b, float[] c, Product product)
    {
        fixed (float* pa = a, pb = b, pc = c) product(pa, pb, pc);
    }

    private static unsafe void DirectConvLanesForward(float[] x, float[] w, float[]? b, float[] y, ConvGeometry g)
    {
        fixed (float* px = x, pw = w, pb = b, py = y) DirectConvLanes.Forward(px, pw, b is null ? null : pb, py, g);
    }

    private static unsafe void GemmForward(float[] x, float[] w, float[] b, float[] y, ConvGeometry g)
    {
        fixed (float* px = x, pw = w, pb = b, py = y) ConvGemm.Forward(px, pw, pb, py, g);
    }
}
