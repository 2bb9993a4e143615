using Lab.Core.Cpu;
using Xunit;
using static Lab.Core.Tests.Cpu.GemmReference;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// Sgemm against a double-precision triple loop: sizes on both sides of every register tile and cache block,
/// every transpose pair, alpha/beta variants, padded leading dimensions, each micro-kernel, one and two threads.
/// </summary>
public class GemmTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 100, 129];
    private static readonly int[] Depths = [1, 3, 16, 17, 65];

    // Kernels by name (GemmIsa is internal; theory parameters must be public types). "Avx512Packed" keeps
    // small shapes off the no-packing path so the packed kernel's edge tiles are tested as well.
    public static TheoryData<string, bool, bool> IsaAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var isa in Enum.GetNames<GemmIsa>().Append("Avx512Packed"))
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(isa, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(IsaAndTransposes))]
    public void AllSizeCombinations_MatchReference(string isa, bool transA, bool transB)
    {
        var rng = new Random(42);
        WithIsa(isa, () =>
        {
            foreach (int m in Sizes)
                foreach (int n in Sizes)
                    foreach (int k in Depths)
                        RunCase(rng, transA, transB, m, n, k, alpha: 1.5f, beta: 0f, pad: (m + n) % 3);
            // Every depth with a few row/column counts, to cross the KC boundary and odd remainders in k.
            foreach (int k in Sizes.Concat([255, 256, 257, 600]))
                foreach (int mn in new[] { 7, 33 })
                    RunCase(rng, transA, transB, mn, mn + 2, k, alpha: 1f, beta: 0.5f, pad: 1);
        });
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(-2f)]
    public void BetaVariants_MatchReference(float beta)
    {
        var rng = new Random(7);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (var (m, n, k) in new[] { (17, 33, 9), (65, 31, 100), (100, 129, 300) })
                {
                    RunCase(rng, ta, tb, m, n, k, alpha: 1f, beta, pad: 2);
                    RunCase(rng, ta, tb, m, n, k, alpha: -0.25f, beta, pad: 0);
                }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    public void ZeroDepthOrZeroAlpha_ScalesC(float beta)
    {
        var rng = new Random(3);
        RunCase(rng, false, false, 9, 17, 0, alpha: 1f, beta, pad: 1);
        RunCase(rng, true, true, 9, 17, 5, alpha: 0f, beta, pad: 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LargeProducts_MatchReference(int threads)
    {
        var rng = new Random(11);
        WithThreads(threads, () =>
        {
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    RunCase(rng, ta, tb, 300, 257, 513, alpha: 1f, beta: 0f, pad: 3);
            RunCase(rng, false, false, 1000, 40, 300, alpha: 1f, beta: 1f, pad: 0); // tall: splits M
            RunCase(rng, false, true, 20, 4200, 70, alpha: 2f, beta: 0f, pad: 0);  // wide: crosses NC
            RunCase(rng, false, false, 3000, 32, 9, alpha: 1f, beta: 0f, pad: 0);  // shallow im2col: no packing
            RunCase(rng, true, true, 45, 3000, 16, alpha: 1f, beta: 0.5f, pad: 1);
        });
    }

    [Theory]
    [InlineData("Avx512")]
    [InlineData("Avx512Packed")]
    [InlineData("Avx2")]
    public void TwoThreads_EvenForSmallProducts_MatchReference(string isa)
    {
        var rng = new Random(5);
        WithThreads(2, () => WithIsa(isa, () =>
        {
            foreach (int m in new[] { 1, 5, 17, 65 })
                foreach (int n in new[] { 1, 9, 33, 100 })
                    foreach (bool ta in new[] { false, true })
                        RunCase(rng, ta, !ta, m, n, 31, alpha: 1f, beta: 0f, pad: 1);
        }), minMacsPerThread: 1);
    }

    [Fact]
    public void Products_CallAfterCall_AllocateNothing()
    {
        var a = new float[256 * 256];
        var b = new float[256 * 256];
        var c = new float[256 * 256];
        for (int i = 0; i < 3; i++)
        {
            Gemm.Sgemm(false, false, 256, 256, 256, 1f, a, 256, b, 256, 0f, c, 256);
            Gemm.Sgemm(true, true, 9, 32, 9, 1f, a, 9, b, 9, 1f, c, 32);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Gemm.Sgemm(false, false, 256, 256, 256, 1f, a, 256, b, 256, 0f, c, 256);
            Gemm.Sgemm(true, true, 9, 32, 9, 1f, a, 9, b, 9, 1f, c, 32);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>One product with ld = row length + pad, C pre-filled with NaN when beta == 0.</summary>
    internal static void RunCase(Random rng, bool transA, bool transB, int m, int n, int k,
        float alpha, float beta, int pad)
    {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        var a = Matrix(rng, transA ? k : m, transA ? m : k, Math.Max(lda, 1));
        var b = Matrix(rng, transB ? n : k, transB ? k : n, Math.Max(ldb, 1));
        var c0 = Matrix(rng, m, n, ldc);
        if (beta == 0f)
            for (int i = 0; i < m; i++) Array.Fill(c0, float.NaN, i * ldc, n);
        var c = (float[])c0.Clone();
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), beta, c, ldc);
        Check(transA, transB, m, n, k, alpha, a, 0, Math.Max(lda, 1), b, 0, Math.Max(ldb, 1), beta, c0, c, 0, ldc,
            $"{Gemm.ForcedIsa}{(Gemm.ForcePackedPath ? " packed" : "")} tA={transA} tB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad}");
    }

    internal static void WithIsa(string isa, Action body)
    {
        Gemm.ForcePackedPath = isa.EndsWith("Packed");
        Gemm.ForcedIsa = Enum.Parse<GemmIsa>(isa.Replace("Packed", ""));
        try { body(); }
        finally
        {
            Gemm.ForcedIsa = null;
            Gemm.ForcePackedPath = false;
        }
    }

    internal static void WithThreads(int threads, Action body, long? minMacsPerThread = null)
    {
        int saved = Gemm.MaxThreads;
        long savedMacs = Gemm.MinMacsPerThread;
        Gemm.MaxThreads = threads;
        if (minMacsPerThread is long macs) Gemm.MinMacsPerThread = macs;
        try { body(); }
        finally
        {
            Gemm.MaxThreads = saved;
            Gemm.MinMacsPerThread = savedMacs;
        }
    }
}
