using Lab.Core.Cpu;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void MatMul(in StorageView a, bool transA, long strideA, in StorageView b, bool transB, long strideB,
        in StorageView c, int batch, int m, int n, int k, float beta)
    {
        int lda = transA ? m : k, ldb = transB ? k : n;
        if (batch == 1) Gemm.Sgemm(transA, transB, m, n, k, 1f, a.Span, lda, b.Span, ldb, beta, c.Span, n);
        else Gemm.SgemmBatched(transA, transB, m, n, k, 1f, a.Span, lda, strideA, b.Span, ldb, strideB, beta, c.Span, n, (long)m * n, batch);
    }
}
