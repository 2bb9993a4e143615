using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed unsafe partial class CudaBackend
{
    private readonly Lock _blasLock = new();

    public void MatMul(in StorageView a, bool transA, long strideA, in StorageView b, bool transB, long strideB,
        in StorageView c, int batch, int m, int n, int k, float beta)
    {
        Enter();
        Gemm(Ptr(a), transA, strideA, Ptr(b), transB, strideB, Ptr(c), batch, m, n, k, beta);
    }

    /// <summary>
    /// Row-major C = op(A) op(B) + beta C per batch item, through column-major cuBLAS: a row-major matrix
    /// is its transpose in column-major order, so cuBLAS computes Cᵀ = op(B)ᵀ op(A)ᵀ with the operands
    /// swapped and no data moved. A stride of 0 reuses one matrix for the whole batch. The C matrices are packed
    /// (m n apart) unless <paramref name="strideC"/> says otherwise (one group's block of each image's channels).
    /// </summary>
    private void Gemm(DevicePtr a, bool transA, long strideA, DevicePtr b, bool transB, long strideB,
        DevicePtr c, int batch, int m, int n, int k, float beta, long? strideC = null)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int lda = transA ? m : k, ldb = transB ? k : n;
        int opA = transA ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N, opB = transB ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N;
        float alpha = 1f;
        lock (_blasLock)
        {
            if (batch == 1)
                CuBlas.Check(CuBlas.cublasSgemm(_blas, opB, opA, n, m, k, &alpha, b.Address, Math.Max(ldb, 1), a.Address, Math.Max(lda, 1), &beta, c.Address, n),
                    "cublasSgemm");
            else
                CuBlas.Check(CuBlas.cublasSgemmStridedBatched(_blas, opB, opA, n, m, k, &alpha, b.Address, Math.Max(ldb, 1), strideB,
                    a.Address, Math.Max(lda, 1), strideA, &beta, c.Address, n, strideC ?? (long)m * n, batch), "cublasSgemmStridedBatched");
        }
    }
}
