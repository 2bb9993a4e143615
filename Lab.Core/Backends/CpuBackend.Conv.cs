using System.Numerics.Tensors;
using Lab.Core.Cpu;

namespace Lab.Core.Backends;

/// <summary>Convolution and pooling: the tensors' arrays pinned for the pointer kernels in Lab.Core.Cpu.</summary>
public sealed unsafe partial class CpuBackend
{
    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g)
    {
        fixed (float* px = x.Span, pw = w.Span, pb = bias is null ? default : bias.Span, py = y.Span)
            ConvGemm.Forward(px, pw, bias is null ? null : pb, py, g);
    }

    public void Conv2dGradInput(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g)
    {
        fixed (float* pdy = dy.Span, pw = w.Span, pdx = dx.Span)
            ConvGemm.GradInput(pdy, pw, pdx, g);
    }

    public void Conv2dGradWeight(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g)
    {
        fixed (float* px = x.Span, pdy = dy.Span, pdw = dw.Span)
            ConvGemm.GradWeight(px, pdy, pdw, g);
    }

    public void ChannelSum(Tensor dy, Tensor db, int n, int channels, int spatial)
    {
        ReadOnlySpan<float> g = dy.Span;
        Span<float> d = db.Span;
        d.Clear();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                d[c] += TensorPrimitives.Sum(g.Slice((i * channels + c) * spatial, spatial));
    }

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, in PoolGeometry g)
    {
        fixed (float* px = x.Span, py = y.Span, pi = indices.Span)
            Pooling.Max(px, py, pi, g);
    }

    public void MaxPool2dGrad(Tensor dy, Tensor indices, Tensor dx, in PoolGeometry g)
    {
        fixed (float* pdy = dy.Span, pi = indices.Span, pdx = dx.Span)
            Pooling.MaxGrad(pdy, pi, pdx, g);
    }

    public void MaxPool2dGather(Tensor x, Tensor indices, Tensor y, in PoolGeometry g)
    {
        fixed (float* px = x.Span, pi = indices.Span, py = y.Span)
            Pooling.MaxGather(px, pi, py, g);
    }

    public void AvgPool2d(Tensor x, Tensor y, in PoolGeometry g)
    {
        fixed (float* px = x.Span, py = y.Span)
            Pooling.Avg(px, py, g);
    }

    public void AvgPool2dGrad(Tensor dy, Tensor dx, in PoolGeometry g)
    {
        fixed (float* pdy = dy.Span, pdx = dx.Span)
            Pooling.AvgGrad(pdy, pdx, g);
    }
}
