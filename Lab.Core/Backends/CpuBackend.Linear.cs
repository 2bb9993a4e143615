using System.Numerics.Tensors;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void MatMul(Tensor a, bool transA, long strideA, Tensor b, bool transB, long strideB,
        Tensor c, int batch, int m, int n, int k, float beta)
    {
        ReadOnlySpan<float> sa = a.Span, sb = b.Span;
        Span<float> sc = c.Span;
        int lda = transA ? m : k, ldb = transB ? k : n;
        for (int i = 0; i < batch; i++)
        {
            var ai = sa[(int)(i * strideA)..];
            var bi = sb[(int)(i * strideB)..];
            var ci = sc.Slice(i * m * n, m * n);
            Sgemm(transA, transB, m, n, k, ai, lda, bi, ldb, beta, ci, n);
        }
    }

    /// <summary>C = op(A) op(B) + beta C, row-major. The one entry point to the GEMM kernel.</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear(); else if (beta != 1) TensorPrimitives.Multiply(row, beta, row);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * lda + i] : a[i * lda + p];
                if (av == 0) continue;
                if (!transB) TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), av, row, row);
                else for (int j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
            }
        }
    }
}
