using Lab.Core.Cpu;
using Xunit;
using static Lab.Core.Tests.Cpu.GemmReference;

namespace Lab.Core.Tests.Cpu;

/// <summary>SgemmBatched: each product checked separately, with gaps between matrices and shared operands.</summary>
public class GemmBatchedTests
{
    [Theory]
    [InlineData(1, false, false)]
    [InlineData(1, true, false)]
    [InlineData(2, false, true)]
    [InlineData(2, true, true)]
    public void StridedBatch_EachProductMatchesReference(int threads, bool transA, bool transB)
    {
        var rng = new Random(9);
        GemmTests.WithThreads(threads, () =>
        {
            foreach (var (m, n, k, batch) in new[] { (5, 7, 9, 3), (33, 17, 65, 4), (100, 40, 9, 5), (1, 1, 1, 2) })
                foreach (float beta in new[] { 0f, 0.5f })
                    RunBatch(rng, transA, transB, m, n, k, batch, beta, shareB: false);
            RunBatch(rng, transA, transB, 40, 33, 20, 3, 1f, shareB: true);
        }, minMacsPerThread: 1);
    }

    [Fact]
    public void EmptyBatch_TouchesNothing()
    {
        var c = new[] { 1f, 2f };
        Gemm.SgemmBatched(false, false, 1, 1, 1, 1f, [], 1, 1, [], 1, 1, 0f, c, 1, 1, 0);
        Assert.Equal([1f, 2f], c);
    }

    /// <summary>Matrix i starts at i * stride with a gap of 5 floats after each; shareB uses strideB = 0.</summary>
    private static void RunBatch(Random rng, bool transA, bool transB, int m, int n, int k, int batch, float beta, bool shareB)
    {
        int lda = (transA ? m : k) + 1, ldb = transB ? k : n, ldc = n + 2;
        long sizeA = (long)((transA ? k : m) - 1) * lda + (transA ? m : k);
        long sizeB = (long)((transB ? n : k) - 1) * ldb + (transB ? k : n);
        long sizeC = (long)(m - 1) * ldc + n;
        long strideA = sizeA + 5, strideB = shareB ? 0 : sizeB + 5, strideC = sizeC + 5;
        var a = Filled(rng, (batch - 1) * strideA + sizeA);
        var b = Filled(rng, (batch - 1) * strideB + sizeB);
        var c0 = Filled(rng, (batch - 1) * strideC + sizeC);
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
            {
                long row = t * strideC + (long)i * ldc;
                for (int j = n; j < ldc && i < m - 1; j++) c0[row + j] = GapValue;
                if (beta == 0f) Array.Fill(c0, float.NaN, (int)row, n);
            }
        var c = (float[])c0.Clone();
        Gemm.SgemmBatched(transA, transB, m, n, k, 0.75f, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
        for (int t = 0; t < batch; t++)
            Check(transA, transB, m, n, k, 0.75f, a, (int)(t * strideA), lda, b, (int)(t * strideB), ldb, beta,
                c0, c, (int)(t * strideC), ldc, $"batch item {t} of {batch}, m={m} n={n} k={k} beta={beta}");
        for (int t = 0; t < batch - 1; t++)
            for (long g = t * strideC + sizeC; g < (t + 1) * strideC; g++)
                Assert.Equal(c0[g], c[g]); // gaps between output matrices stay untouched
    }

    private static float[] Filled(Random rng, long count)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
