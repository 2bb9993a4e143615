using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>
/// Convolutions as GEMMs over im2col column buffers: per image, col = im2col(x) is (C R S) x (OH OW), so
/// y = W col, dcol = Wᵀ dy (scattered back by col2im) and dW = Σ dy colᵀ; with groups, each product is one GEMM per
/// group over its block of rows of col, W and dy. The images of a batch go to cuBLAS as one strided-batched call;
/// the column buffer is built for as many images as fit in <see cref="ColumnBudget"/> floats at a time. A 1x1
/// convolution with stride 1 and no padding uses x itself.
/// </summary>
public sealed partial class CudaBackend
{
    private const long ColumnBudget = 64L << 20; // floats (256 MiB)

    private static Arg GeometryArg(in ConvGeometry g)
        => new([g.C, g.H, g.W, g.R, g.S, g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW, g.OutH, g.OutW]);

    private static int ImagesPerChunk(in ConvGeometry g)
    {
        long perImage = (long)g.C * g.R * g.S * g.OutH * g.OutW;
        return (int)Math.Clamp(ColumnBudget / Math.Max(perImage, 1), 1, Math.Max(g.N, 1));
    }

    public void Conv2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in ConvGeometry g)
    {
        Enter();
        int crs = g.C * g.R * g.S, ohw = g.OutH * g.OutW, chw = g.C * g.H * g.W, kohw = g.K * ohw;
        int gk = g.GroupK, gcrs = g.GroupCrs;
        if (y.Numel == 0) return;
        DevicePtr xp = Ptr(x), wp = Ptr(w), yp = Ptr(y);
        if (g.IsPointwise)
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm(Offset(wp, (long)gi * gk * gcrs), false, 0, Offset(xp, (long)gi * gcrs * ohw), false, chw,
                    Offset(yp, (long)gi * gk * ohw), g.N, gk, ohw, gcrs, 0f, kohw);
        else
        {
            int chunk = ImagesPerChunk(g);
            using var col = Rent((long)chunk * crs * ohw);
            for (int n0 = 0; n0 < g.N; n0 += chunk)
            {
                int images = Math.Min(chunk, g.N - n0);
                LaunchN(Kernels.Im2Col, images * crs * ohw, Offset(xp, (long)n0 * chw), col.Ptr, images, GeometryArg(g));
                for (int gi = 0; gi < g.Groups; gi++)
                    Gemm(Offset(wp, (long)gi * gk * gcrs), false, 0, Offset(col.Ptr, (long)gi * gcrs * ohw), false, (long)crs * ohw,
                        Offset(yp, (long)n0 * kohw + (long)gi * gk * ohw), images, gk, ohw, gcrs, 0f, kohw);
            }
        }
        if (!bias.IsNone) LaunchN(Kernels.AddChannelBias, y.Numel, yp, Ptr(bias), y.Numel, g.K, ohw);
    }

    public void Conv2dGradInput(in StorageView dy, in StorageView w, in StorageView dx, in ConvGeometry g)
    {
        Enter();
        int crs = g.C * g.R * g.S, ohw = g.OutH * g.OutW, chw = g.C * g.H * g.W, kohw = g.K * ohw;
        int gk = g.GroupK, gcrs = g.GroupCrs;
        if (dx.Numel == 0) return;
        DevicePtr dyp = Ptr(dy), wp = Ptr(w), dxp = Ptr(dx);
        if (g.IsPointwise)
        {
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm(Offset(wp, (long)gi * gk * gcrs), true, 0, Offset(dyp, (long)gi * gk * ohw), false, kohw,
                    Offset(dxp, (long)gi * gcrs * ohw), g.N, gcrs, ohw, gk, 0f, chw);
            return;
        }
        int chunk = ImagesPerChunk(g);
        using var col = Rent((long)chunk * crs * ohw);
        for (int n0 = 0; n0 < g.N; n0 += chunk)
        {
            int images = Math.Min(chunk, g.N - n0);
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm(Offset(wp, (long)gi * gk * gcrs), true, 0, Offset(dyp, (long)n0 * kohw + (long)gi * gk * ohw), false, kohw,
                    Offset(col.Ptr, (long)gi * gcrs * ohw), images, gcrs, ohw, gk, 0f, (long)crs * ohw);
            LaunchN(Kernels.Col2Im, images * chw, col.Ptr, Offset(dxp, (long)n0 * chw), images, GeometryArg(g));
        }
    }

    public void Conv2dGradWeight(in StorageView x, in StorageView dy, in StorageView dw, in ConvGeometry g)
    {
        Enter();
        int crs = g.C * g.R * g.S, ohw = g.OutH * g.OutW, chw = g.C * g.H * g.W, kohw = g.K * ohw;
        int gk = g.GroupK, gcrs = g.GroupCrs, weights = g.K * gcrs;
        if (dw.Numel == 0) return;
        DevicePtr xp = Ptr(x), dyp = Ptr(dy), dwp = Ptr(dw);
        if (g.N == 0 || ohw == 0) { Zero(dwp, weights); return; }
        bool pointwise = g.IsPointwise;
        int chunk = pointwise ? g.N : ImagesPerChunk(g);
        // Per image dW_n = dy_n col_nᵀ (per group, into its block) in an [images, K, C/groups R S] buffer, then one
        // reduction over images.
        using var col = Rent(pointwise ? 0 : (long)chunk * crs * ohw);
        using var perImage = Rent((long)Math.Min(chunk, g.N) * weights);
        using var partial = Rent(g.N > chunk ? weights : 0);
        for (int n0 = 0; n0 < g.N; n0 += chunk)
        {
            int images = Math.Min(chunk, g.N - n0);
            DevicePtr cols = pointwise ? Offset(xp, (long)n0 * chw) : col.Ptr;
            if (!pointwise) LaunchN(Kernels.Im2Col, images * crs * ohw, Offset(xp, (long)n0 * chw), col.Ptr, images, GeometryArg(g));
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm(Offset(dyp, (long)n0 * kohw + (long)gi * gk * ohw), false, kohw, Offset(cols, (long)gi * gcrs * ohw), true, (long)crs * ohw,
                    Offset(perImage.Ptr, (long)gi * gk * gcrs), images, gk, gcrs, ohw, 0f, weights);
            bool first = n0 == 0;
            ReduceCols(ReduceOp.Sum, perImage.Ptr, 1, images, weights, first ? dwp : partial.Ptr);
            if (!first) LaunchN(Kernels.Axpy, weights, 1f, partial.Ptr, dwp, weights);
        }
    }

    public void ChannelSum(in StorageView dy, in StorageView db, int n, int channels, int spatial)
    {
        Enter();
        if (channels == 0) return;
        Launch(Kernels.ChannelSum, Math.Min(channels, _maxBlocks), 256, 1, Ptr(dy), Ptr(db), n, channels, spatial);
    }

    private static Arg PoolArg(in PoolGeometry g)
        => new([g.H, g.W, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW, g.OutH, g.OutW]);

    public void MaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        Enter();
        int planes = g.N * g.C;
        LaunchN(Kernels.MaxPool, planes * g.OutH * g.OutW, Ptr(x), Ptr(y), Ptr(indices), planes, PoolArg(g));
    }

    public void MaxPool2dGrad(in StorageView dy, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        Enter();
        int planes = g.N * g.C;
        Zero(Ptr(dx), dx.Numel);
        LaunchN(Kernels.MaxPoolGrad, planes * g.OutH * g.OutW, Ptr(dy), Ptr(indices), Ptr(dx), planes, PoolArg(g));
    }

    public void MaxPool2dGather(in StorageView x, in StorageView indices, in StorageView y, in PoolGeometry g)
    {
        Enter();
        int planes = g.N * g.C;
        LaunchN(Kernels.MaxPoolGather, planes * g.OutH * g.OutW, Ptr(x), Ptr(indices), Ptr(y), planes, PoolArg(g));
    }

    public void AvgPool2d(in StorageView x, in StorageView y, in PoolGeometry g)
    {
        Enter();
        int planes = g.N * g.C;
        LaunchN(Kernels.AvgPool, planes * g.OutH * g.OutW, Ptr(x), Ptr(y), planes, g.CountIncludePad ? 1 : 0, PoolArg(g));
    }

    public void AvgPool2dGrad(in StorageView dy, in StorageView dx, in PoolGeometry g)
    {
        Enter();
        int planes = g.N * g.C;
        LaunchN(Kernels.AvgPoolGrad, planes * g.H * g.W, Ptr(dy), Ptr(dx), planes, g.CountIncludePad ? 1 : 0, PoolArg(g));
    }

    private static DevicePtr Offset(DevicePtr p, long floats) => new(p.Address + (ulong)floats * sizeof(float));
}
