using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed partial class CudaBackend
{
    // One block per row; RowBlock sizes it to the row (32 to 256 threads).
    public void LayerNorm(in StorageView x, in StorageView y, in StorageView rstd, int rows, int n, float eps)
    {
        Enter();
        if (rows == 0 || n == 0) return;
        Launch(Kernels.LayerNormRows, Math.Min(rows, _maxBlocks), RowBlock(n), 1, Ptr(x), Ptr(y), Ptr(rstd), rows, n, eps);
    }

    public void LayerNormGrad(in StorageView y, in StorageView rstd, in StorageView dy, in StorageView dx, int rows, int n)
    {
        Enter();
        if (rows == 0 || n == 0) return;
        Launch(Kernels.LayerNormGradRows, Math.Min(rows, _maxBlocks), RowBlock(n), 1, Ptr(y), Ptr(rstd), Ptr(dy), Ptr(dx), rows, n);
    }
}
