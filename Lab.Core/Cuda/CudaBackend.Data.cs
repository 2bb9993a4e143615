using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed unsafe partial class CudaBackend
{
    public void Permute(in StorageView x, ReadOnlySpan<int> perm, in StorageView y)
    {
        Enter();
        int rank = x.Rank, total = y.Numel;
        if (total == 0) return;
        Span<int> inStride = stackalloc int[Math.Max(rank, 1)];
        int stride = 1;
        for (int i = rank - 1; i >= 0; i--) { inStride[i] = stride; stride *= x.Shape[i]; }
        // Output dimensions innermost first, with x's stride for each; size-1 dimensions drop out and
        // neighbours that are contiguous in x as well merge.
        Span<int> size = stackalloc int[MaxDims], step = stackalloc int[MaxDims];
        size.Clear(); step.Clear();
        int dims = 0;
        for (int k = rank - 1; k >= 0; k--)
        {
            int n = y.Shape[k], s = inStride[perm[k]];
            if (n == 1) continue;
            if (dims > 0 && s == step[dims - 1] * size[dims - 1]) { size[dims - 1] *= n; continue; }
            if (dims == MaxDims) throw new NotSupportedException($"CUDA permute of shape {ShapeUtil.Format(x.Shape)} needs more than {MaxDims} dimensions after merging.");
            (size[dims], step[dims]) = (n, s);
            dims++;
        }
        if (dims == 0 || (dims == 1 && step[0] == 1)) { Copy(x, y); return; }
        // Swapping the last two axes of a (batch of) matrices: the shared-memory tiled transpose.
        if (step[0] != 1 && step[1] == 1 && step[0] == size[1] && (dims == 2 || (dims == 3 && step[2] == size[0] * size[1])))
        {
            int batch = dims == 3 ? size[2] : 1;
            int tiles = (size[1] + 31) / 32 * ((size[0] + 31) / 32);
            Launch(Kernels.Transpose, (int)Math.Min((long)batch * tiles, _maxBlocks), 32, 8, Ptr(x), Ptr(y), batch, size[0], size[1]);
            return;
        }
        LaunchN(Kernels.Permute, total, Ptr(x), Ptr(y), total, dims, new Arg(size), new Arg(step));
    }

    public void CopyBlocks(in StorageView src, int srcOffset, int srcStride, in StorageView dst, int dstOffset, int dstStride,
        int rows, int cols, bool accumulate)
    {
        Enter();
        if (rows == 0 || cols == 0) return;
        var from = new DevicePtr(Ptr(src).Address + (ulong)srcOffset * sizeof(float));
        var to = new DevicePtr(Ptr(dst).Address + (ulong)dstOffset * sizeof(float));
        if (!accumulate && (rows == 1 || (srcStride == cols && dstStride == cols)))
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync(to.Address, from.Address, (nuint)((long)rows * cols * sizeof(float)), _stream), "cuMemcpyDtoDAsync");
            return;
        }
        LaunchN(Kernels.CopyBlocks, rows * cols, from, srcStride, to, dstStride, rows, cols, accumulate);
    }

    public void IndexSelect(in StorageView x, in StorageView index, in StorageView y, int outer, int n, int inner)
    {
        Enter();
        int m = index.Numel;
        LaunchN(Kernels.IndexSelect, outer * m * inner, Ptr(x), Ptr(index), Ptr(y), outer, n, inner, m, new DevicePtr(_errorFlag));
    }

    public void IndexAdd(in StorageView dy, in StorageView index, in StorageView dx, int outer, int n, int inner)
    {
        Enter();
        int m = index.Numel;
        LaunchN(Kernels.IndexAdd, outer * m * inner, Ptr(dy), Ptr(index), Ptr(dx), outer, n, inner, m, new DevicePtr(_errorFlag));
    }

    public void Gather(in StorageView x, in StorageView index, in StorageView y, int rows, int n)
    {
        Enter();
        LaunchN(Kernels.Gather, rows, Ptr(x), Ptr(index), Ptr(y), rows, n, new DevicePtr(_errorFlag));
    }

    public void ScatterAdd(in StorageView dy, in StorageView index, in StorageView dx, int rows, int n)
    {
        Enter();
        LaunchN(Kernels.ScatterAdd, rows, Ptr(dy), Ptr(index), Ptr(dx), rows, n, new DevicePtr(_errorFlag));
    }
}
