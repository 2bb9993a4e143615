using Lab.Core.Backends;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The CPU backend's original convolution and pooling loops (the convolutions since extended by dilation, groups
/// and uneven padding), the direct definitions that the im2col/GEMM and vectorised kernels are checked against
/// (Lab.Bench compiles this same file as its benchmarks' baseline).
/// </summary>
internal static class NaiveConv
{
    public static void Conv2d(ReadOnlySpan<float> xs, ReadOnlySpan<float> ws, ReadOnlySpan<float> bs, Span<float> ys, in ConvGeometry g)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float acc = bs.IsEmpty ? 0 : bs[k];
                        for (int c = 0; c < g.GroupC; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r * g.DilationH;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s * g.DilationW;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    acc += xs[((n * g.C + k / g.GroupK * g.GroupC + c) * g.H + h) * g.W + ww] * ws[((k * g.GroupC + c) * g.R + r) * g.S + s];
                                }
                            }
                        ys[((n * g.K + k) * oh + p) * ow + q] = acc;
                    }
    }

    public static void Conv2dGradInput(ReadOnlySpan<float> gs, ReadOnlySpan<float> ws, Span<float> d, in ConvGeometry g)
    {
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float gv = gs[((n * g.K + k) * oh + p) * ow + q];
                        for (int c = 0; c < g.GroupC; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r * g.DilationH;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s * g.DilationW;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    d[((n * g.C + k / g.GroupK * g.GroupC + c) * g.H + h) * g.W + ww] += gv * ws[((k * g.GroupC + c) * g.R + r) * g.S + s];
                                }
                            }
                    }
    }

    public static void Conv2dGradWeight(ReadOnlySpan<float> xs, ReadOnlySpan<float> gs, Span<float> d, in ConvGeometry g)
    {
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float gv = gs[((n * g.K + k) * oh + p) * ow + q];
                        for (int c = 0; c < g.GroupC; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r * g.DilationH;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s * g.DilationW;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    d[((k * g.GroupC + c) * g.R + r) * g.S + s] += gv * xs[((n * g.C + k / g.GroupK * g.GroupC + c) * g.H + h) * g.W + ww];
                                }
                            }
                    }
    }

    public static void MaxPool2d(ReadOnlySpan<float> xs, Span<float> ys, Span<float> idx, in PoolGeometry g)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int plane = 0; plane < g.N * g.C; plane++)
        {
            var src = xs.Slice(plane * g.H * g.W, g.H * g.W);
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    float best = float.NegativeInfinity;
                    int arg = -1;
                    for (int r = 0; r < g.KernelH; r++)
                    {
                        int h = p * g.StrideH - g.PadH + r * g.DilationH;
                        if ((uint)h >= (uint)g.H) continue;
                        for (int s = 0; s < g.KernelW; s++)
                        {
                            int w = q * g.StrideW - g.PadW + s * g.DilationW;
                            if ((uint)w >= (uint)g.W) continue;
                            float v = src[h * g.W + w];
                            if (v > best || arg < 0 || float.IsNaN(v)) { best = v; arg = h * g.W + w; }
                        }
                    }
                    int o = (plane * oh + p) * ow + q;
                    ys[o] = best;
                    idx[o] = arg;
                }
        }
    }

    public static void MaxPool2dGrad(ReadOnlySpan<float> gs, ReadOnlySpan<float> idx, Span<float> d, in PoolGeometry g)
    {
        d.Clear();
        int outPlane = g.OutH * g.OutW, inPlane = g.H * g.W;
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int o = 0; o < outPlane; o++)
                if (idx[plane * outPlane + o] >= 0) d[plane * inPlane + (int)idx[plane * outPlane + o]] += gs[plane * outPlane + o];
    }

    public static void MaxPool2dGather(ReadOnlySpan<float> xs, ReadOnlySpan<float> idx, Span<float> ys, in PoolGeometry g)
    {
        int outPlane = g.OutH * g.OutW, inPlane = g.H * g.W;
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int o = 0; o < outPlane; o++)
            {
                float at = idx[plane * outPlane + o];
                ys[plane * outPlane + o] = at < 0 ? 0 : xs[plane * inPlane + (int)at];
            }
    }

    /// <summary>Average pooling's divisor, counted tap by tap: those inside the padded input, or with <c>CountIncludePad</c> off those inside the input.</summary>
    public static int AvgDivisor(in PoolGeometry g, int p, int q)
    {
        int count = 0;
        for (int r = 0; r < g.KernelH; r++)
            for (int s = 0; s < g.KernelW; s++)
            {
                int h = p * g.StrideH - g.PadH + r, w = q * g.StrideW - g.PadW + s;
                bool inPadded = h < g.H + g.PadH && w < g.W + g.PadW, inside = (uint)h < (uint)g.H && (uint)w < (uint)g.W;
                if (g.CountIncludePad ? inPadded : inside) count++;
            }
        return count;
    }

    public static void AvgPool2d(ReadOnlySpan<float> xs, Span<float> ys, in PoolGeometry g)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    float inv = 1f / AvgDivisor(g, p, q);
                    float acc = 0;
                    for (int r = 0; r < g.KernelH; r++)
                    {
                        int h = p * g.StrideH - g.PadH + r;
                        if ((uint)h >= (uint)g.H) continue;
                        for (int s = 0; s < g.KernelW; s++)
                        {
                            int w = q * g.StrideW - g.PadW + s;
                            if ((uint)w < (uint)g.W) acc += xs[(plane * g.H + h) * g.W + w];
                        }
                    }
                    ys[(plane * oh + p) * ow + q] = acc * inv;
                }
    }

    public static void AvgPool2dGrad(ReadOnlySpan<float> gs, Span<float> d, in PoolGeometry g)
    {
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    float gv = gs[(plane * oh + p) * ow + q] * (1f / AvgDivisor(g, p, q));
                    for (int r = 0; r < g.KernelH; r++)
                    {
                        int h = p * g.StrideH - g.PadH + r;
                        if ((uint)h >= (uint)g.H) continue;
                        for (int s = 0; s < g.KernelW; s++)
                        {
                            int w = q * g.StrideW - g.PadW + s;
                            if ((uint)w < (uint)g.W) d[(plane * g.H + h) * g.W + w] += gv;
                        }
                    }
                }
    }
}
