using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed partial class CudaBackend
{
    public void Reduce(ReduceOp op, in StorageView x, int outer, int n, int inner, in StorageView y)
    {
        Enter();
        if (y.Numel == 0) return;
        if (inner == 1 && n > 64) ReduceRows(op, Ptr(x), outer, n, Ptr(y));
        else if (inner == 1) LaunchN(Kernels.ReduceStrided, outer, (int)op, Ptr(x), outer, n, inner, Ptr(y));
        else ReduceCols(op, Ptr(x), outer, n, inner, Ptr(y));
    }

    /// <summary>How many chunks to split a reduction axis into so that about four blocks per SM have work.</summary>
    private int ChunksFor(long blocks, int n, int minChunk)
    {
        if (blocks >= 2L * MultiprocessorCount) return 1;
        long wanted = (4L * MultiprocessorCount + blocks - 1) / blocks;
        return (int)Math.Clamp(Math.Min(wanted, (n + minChunk - 1) / minChunk), 1, 1024);
    }

    private void ReduceRows(ReduceOp op, DevicePtr x, int rows, int n, DevicePtr y)
    {
        int chunks = ChunksFor(rows, n, 2048);
        if (chunks == 1)
        {
            Launch(Kernels.ReduceRows, Math.Min(rows, _maxBlocks), 256, 1, (int)op, x, DevicePtr.Null, rows, n, n, 1, y, DevicePtr.Null, 1);
            return;
        }
        int chunk = (n + chunks - 1) / chunks;
        chunks = (n + chunk - 1) / chunk;
        bool indexed = op != ReduceOp.Sum;
        using var values = Rent((long)rows * chunks);
        using var indices = Rent(indexed ? (long)rows * chunks : 0);
        Launch(Kernels.ReduceRows, Math.Min(rows * chunks, _maxBlocks), 256, 1, (int)op, x, DevicePtr.Null, rows, n, chunk, chunks, values.Ptr, indices.Ptr, 0);
        Launch(Kernels.ReduceRows, Math.Min(rows, _maxBlocks), 256, 1, (int)op, values.Ptr, indices.Ptr, rows, chunks, chunks, 1, y, DevicePtr.Null, 1);
    }

    private void ReduceCols(ReduceOp op, DevicePtr x, int outer, int n, int inner, DevicePtr y)
    {
        int tiles = (inner + 31) / 32;
        int chunks = n > 256 ? ChunksFor((long)outer * tiles, n, 64) : 1;
        if (chunks == 1)
        {
            Launch(Kernels.ReduceCols, Math.Min(outer * tiles, _maxBlocks), 32, 8, (int)op, x, DevicePtr.Null, outer, n, inner, n, 1, y, DevicePtr.Null, 1);
            return;
        }
        int chunk = (n + chunks - 1) / chunks;
        chunks = (n + chunk - 1) / chunk;
        bool indexed = op != ReduceOp.Sum;
        using var values = Rent((long)outer * chunks * inner);
        using var indices = Rent(indexed ? (long)outer * chunks * inner : 0);
        Launch(Kernels.ReduceCols, Math.Min(outer * tiles * chunks, _maxBlocks), 32, 8, (int)op, x, DevicePtr.Null, outer, n, inner, chunk, chunks, values.Ptr, indices.Ptr, 0);
        Launch(Kernels.ReduceCols, Math.Min(outer * tiles, _maxBlocks), 32, 8, (int)op, values.Ptr, indices.Ptr, outer, chunks, inner, chunks, 1, y, DevicePtr.Null, 1);
    }

    private static int RowBlock(int n) => n <= 32 ? 32 : n <= 64 ? 64 : n <= 128 ? 128 : 256;

    public void Softmax(in StorageView x, in StorageView y, int outer, int n, int inner, bool log)
    {
        Enter();
        if (y.Numel == 0) return;
        if (inner == 1) Launch(Kernels.SoftmaxRows, Math.Min(outer, _maxBlocks), RowBlock(n), 1, Ptr(x), Ptr(y), outer, n, log);
        else LaunchN(Kernels.SoftmaxCols, outer * inner, Ptr(x), Ptr(y), outer, n, inner, log);
    }

    public void SoftmaxGrad(in StorageView y, in StorageView dy, in StorageView dx, int outer, int n, int inner, bool log)
    {
        Enter();
        if (dx.Numel == 0) return;
        if (inner == 1) Launch(Kernels.SoftmaxGradRows, Math.Min(outer, _maxBlocks), RowBlock(n), 1, Ptr(y), Ptr(dy), Ptr(dx), outer, n, log);
        else LaunchN(Kernels.SoftmaxGradCols, outer * inner, Ptr(y), Ptr(dy), Ptr(dx), outer, n, inner, log);
    }

    public void SumOfSquares(in StorageView x, in StorageView result)
    {
        Enter();
        Zero(Ptr(result), 1);
        LaunchN(Kernels.SumOfSquares, x.Numel, Ptr(x), x.Numel, Ptr(result));
    }
}
