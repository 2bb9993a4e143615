namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void Permute(in StorageView x, ReadOnlySpan<int> perm, in StorageView y)
    {
        int rank = x.Rank;
        ReadOnlySpan<float> s = x.Span;
        Span<float> d = y.Span;
        if (d.Length == 0) return;
        Span<int> inStride = stackalloc int[rank], step = stackalloc int[rank], counter = stackalloc int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= 0; i--) { inStride[i] = stride; stride *= x.Shape[i]; }
        // step[k]: input stride of output dimension k.
        for (int k = 0; k < rank; k++) step[k] = inStride[perm[k]];
        if (rank == 0) { d[0] = s[0]; return; }
        int last = rank - 1, n = y.Shape[last], st = step[last], off = 0;
        for (int o = 0; o < d.Length; o += n)
        {
            var row = d.Slice(o, n);
            if (st == 1) s.Slice(off, n).CopyTo(row);
            else for (int j = 0; j < n; j++) row[j] = s[off + j * st];
            for (int k = last - 1; k >= 0; k--)
            {
                off += step[k];
                if (++counter[k] < y.Shape[k]) break;
                counter[k] = 0;
                off -= step[k] * y.Shape[k];
            }
        }
    }

    public void CopyBlocks(in StorageView src, int srcOffset, int srcStride, in StorageView dst, int dstOffset, int dstStride,
        int rows, int cols, bool accumulate)
    {
        ReadOnlySpan<float> s = src.Span;
        Span<float> d = dst.Span;
        for (int r = 0; r < rows; r++)
        {
            var from = s.Slice(srcOffset + r * srcStride, cols);
            var to = d.Slice(dstOffset + r * dstStride, cols);
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
            else from.CopyTo(to);
        }
    }

    public void IndexSelect(in StorageView x, in StorageView index, in StorageView y, int outer, int n, int inner)
    {
        ReadOnlySpan<float> s = x.Span, idx = index.Span;
        Span<float> d = y.Span;
        int m = idx.Length;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
                s.Slice((o * n + (int)idx[j]) * inner, inner).CopyTo(d.Slice((o * m + j) * inner, inner));
    }

    public void IndexAdd(in StorageView dy, in StorageView index, in StorageView dx, int outer, int n, int inner)
    {
        ReadOnlySpan<float> g = dy.Span, idx = index.Span;
        Span<float> d = dx.Span;
        int m = idx.Length;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
            {
                var to = d.Slice((o * n + (int)idx[j]) * inner, inner);
                System.Numerics.Tensors.TensorPrimitives.Add(to, g.Slice((o * m + j) * inner, inner), to);
            }
    }

    public void Gather(in StorageView x, in StorageView index, in StorageView y, int rows, int n)
    {
        ReadOnlySpan<float> s = x.Span, idx = index.Span;
        Span<float> d = y.Span;
        for (int r = 0; r < rows; r++) d[r] = s[r * n + (int)idx[r]];
    }

    public void ScatterAdd(in StorageView dy, in StorageView index, in StorageView dx, int rows, int n)
    {
        ReadOnlySpan<float> g = dy.Span, idx = index.Span;
        Span<float> d = dx.Span;
        for (int r = 0; r < rows; r++) d[r * n + (int)idx[r]] += g[r];
    }
}
