namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g)
    {
        ReadOnlySpan<float> xs = x.Span, ws = w.Span;
        ReadOnlySpan<float> bs = bias is null ? default : bias.Span;
        Span<float> ys = y.Span;
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float acc = bias is null ? 0 : bs[k];
                        for (int c = 0; c < g.C; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    acc += xs[((n * g.C + c) * g.H + h) * g.W + ww] * ws[((k * g.C + c) * g.R + r) * g.S + s];
                                }
                            }
                        ys[((n * g.K + k) * oh + p) * ow + q] = acc;
                    }
    }

    public void Conv2dGradInput(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g)
    {
        ReadOnlySpan<float> gs = dy.Span, ws = w.Span;
        Span<float> d = dx.Span;
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float gv = gs[((n * g.K + k) * oh + p) * ow + q];
                        for (int c = 0; c < g.C; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    d[((n * g.C + c) * g.H + h) * g.W + ww] += gv * ws[((k * g.C + c) * g.R + r) * g.S + s];
                                }
                            }
                    }
    }

    public void Conv2dGradWeight(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g)
    {
        ReadOnlySpan<float> xs = x.Span, gs = dy.Span;
        Span<float> d = dw.Span;
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        float gv = gs[((n * g.K + k) * oh + p) * ow + q];
                        for (int c = 0; c < g.C; c++)
                            for (int r = 0; r < g.R; r++)
                            {
                                int h = p * g.StrideH - g.PadH + r;
                                if ((uint)h >= (uint)g.H) continue;
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ww = q * g.StrideW - g.PadW + s;
                                    if ((uint)ww >= (uint)g.W) continue;
                                    d[((k * g.C + c) * g.R + r) * g.S + s] += gv * xs[((n * g.C + c) * g.H + h) * g.W + ww];
                                }
                            }
                    }
    }

    public void ChannelSum(Tensor dy, Tensor db, int n, int channels, int spatial)
    {
        ReadOnlySpan<float> g = dy.Span;
        Span<float> d = db.Span;
        d.Clear();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                d[c] += System.Numerics.Tensors.TensorPrimitives.Sum(g.Slice((i * channels + c) * spatial, spatial));
    }

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, in PoolGeometry g)
    {
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span, idx = indices.Span;
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
                        int h = p * g.StrideH - g.PadH + r;
                        if ((uint)h >= (uint)g.H) continue;
                        for (int s = 0; s < g.KernelW; s++)
                        {
                            int w = q * g.StrideW - g.PadW + s;
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

    public void MaxPool2dGrad(Tensor dy, Tensor indices, Tensor dx, in PoolGeometry g)
    {
        ReadOnlySpan<float> gs = dy.Span, idx = indices.Span;
        Span<float> d = dx.Span;
        d.Clear();
        int outPlane = g.OutH * g.OutW, inPlane = g.H * g.W;
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int o = 0; o < outPlane; o++)
                d[plane * inPlane + (int)idx[plane * outPlane + o]] += gs[plane * outPlane + o];
    }

    public void AvgPool2d(Tensor x, Tensor y, in PoolGeometry g)
    {
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        int oh = g.OutH, ow = g.OutW;
        float inv = 1f / (g.KernelH * g.KernelW);
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
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

    public void AvgPool2dGrad(Tensor dy, Tensor dx, in PoolGeometry g)
    {
        ReadOnlySpan<float> gs = dy.Span;
        Span<float> d = dx.Span;
        d.Clear();
        int oh = g.OutH, ow = g.OutW;
        float inv = 1f / (g.KernelH * g.KernelW);
        for (int plane = 0; plane < g.N * g.C; plane++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    float gv = gs[(plane * oh + p) * ow + q] * inv;
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
