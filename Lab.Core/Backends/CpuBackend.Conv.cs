using System.Numerics.Tensors;
using Lab.Core.Cpu;

namespace Lab.Core.Backends;

/// <summary>Convolution and pooling: the tensors' arrays pinned for the pointer kernels in Lab.Core.Cpu.</summary>
public sealed unsafe partial class CpuBackend
{
    public void Conv2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in ConvGeometry g)
    {
        fixed (float* px = x.Span, pw = w.Span, pb = bias.IsNone ? default : bias.Span, py = y.Span)
        {
            if (DirectConvLanes.Applies(g)) DirectConvLanes.Forward(px, pw, bias.IsNone ? null : pb, py, g);
            else ConvGemm.Forward(px, pw, bias.IsNone ? null : pb, py, g);
        }
    }

    public void Conv2dGradInput(in StorageView dy, in StorageView w, in StorageView dx, in ConvGeometry g)
    {
        fixed (float* pdy = dy.Span, pw = w.Span, pdx = dx.Span)
        {
            if (DirectConvLanes.Applies(g)) DirectConvLanes.GradInput(pdy, pw, pdx, g);
            else ConvGemm.GradInput(pdy, pw, pdx, g);
        }
    }

    public void Conv2dGradWeight(in StorageView x, in StorageView dy, in StorageView dw, in ConvGeometry g)
    {
        fixed (float* px = x.Span, pdy = dy.Span, pdw = dw.Span)
        {
            if (DirectConvLanes.Applies(g)) DirectConvLanes.GradWeight(px, pdy, pdw, g);
            else ConvGemm.GradWeight(px, pdy, pdw, g);
        }
    }

    public void ChannelSum(in StorageView dy, in StorageView db, int n, int channels, int spatial)
    {
        if (ChannelSums.Applies(spatial))
        {
            fixed (float* pdy = dy.Span, pdb = db.Span) ChannelSums.Sum(pdy, pdb, n, channels, spatial);
            return;
        }
        ReadOnlySpan<float> g = dy.Span;
        Span<float> d = db.Span;
        d.Clear();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                d[c] += TensorPrimitives.Sum(g.Slice((i * channels + c) * spatial, spatial));
    }

    public void MaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        fixed (float* px = x.Span, py = y.Span, pi = indices.Span)
            Pooling.Max(px, py, pi, g);
    }

    public void MaxPool2dGrad(in StorageView dy, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        fixed (float* pdy = dy.Span, pi = indices.Span, pdx = dx.Span)
            Pooling.MaxGrad(pdy, pi, pdx, g);
    }

    public void MaxPool2dGather(in StorageView x, in StorageView indices, in StorageView y, in PoolGeometry g)
    {
        fixed (float* px = x.Span, pi = indices.Span, py = y.Span)
            Pooling.MaxGather(px, pi, py, g);
    }

    public void ReluMaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        fixed (float* px = x.Span, py = y.Span, pi = indices.Span)
            Pooling.ReluMax(px, py, pi, g);
    }

    public void ReluMaxPool2dGrad(in StorageView dy, in StorageView y, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        fixed (float* pdy = dy.Span, py = y.Span, pi = indices.Span, pdx = dx.Span)
            Pooling.ReluMaxGrad(pdy, py, pi, pdx, g);
    }

    public bool FusesConv2dReluMaxPool2d(in ConvGeometry conv, in PoolGeometry pool) =>
        DirectConvPool.Applies(conv, pool) || ConvGemm.FusesReluMaxPool(conv, pool);

    public void Conv2dReluMaxPool2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in StorageView indices,
        in ConvGeometry conv, in PoolGeometry pool)
    {
        fixed (float* px = x.Span, pw = w.Span, pb = bias.IsNone ? default : bias.Span, py = y.Span, pi = indices.Span)
        {
            if (DirectConvPool.Applies(conv, pool)) DirectConvPool.Forward(px, pw, bias.IsNone ? null : pb, py, pi, conv, pool);
            else ConvGemm.ForwardReluMaxPool(px, pw, bias.IsNone ? null : pb, py, pi, conv, pool);
        }
    }

    public bool FusesConv2dReluMaxPool2dGradWeight(in ConvGeometry conv, in PoolGeometry pool) =>
        DirectConvPool.Applies(conv, pool) || (ConvPoolGrad.Applies(conv, pool) && ConvPoolGrad.Pays(conv));

    public void Conv2dReluMaxPool2dGradWeight(in StorageView x, in StorageView dy, in StorageView y, in StorageView indices,
        in StorageView dw, in StorageView db, in ConvGeometry conv, in PoolGeometry pool)
    {
        fixed (float* px = x.Span, pdy = dy.Span, py = y.Span, pi = indices.Span, pdw = dw.Span, pdb = db.IsNone ? default : db.Span)
        {
            if (DirectConvPool.Applies(conv, pool)) DirectConvPool.GradWeight(px, pdy, py, pi, pdw, db.IsNone ? null : pdb, conv, pool);
            else ConvPoolGrad.GradWeight(px, pdy, py, pi, pdw, db.IsNone ? null : pdb, conv, pool);
        }
    }

    public bool FusesConv2dReluMaxPool2dGradInput(in ConvGeometry conv, in PoolGeometry pool) =>
        ConvPoolGrad.Applies(conv, pool) && ConvPoolGrad.Pays(conv);

    public void Conv2dReluMaxPool2dGradInput(in StorageView dy, in StorageView y, in StorageView indices, in StorageView w,
        in StorageView dx, in ConvGeometry conv, in PoolGeometry pool)
    {
        fixed (float* pdy = dy.Span, py = y.Span, pi = indices.Span, pw = w.Span, pdx = dx.Span)
            ConvPoolGrad.GradInput(pdy, py, pi, pw, pdx, conv, pool);
    }

    public void AvgPool2d(in StorageView x, in StorageView y, in PoolGeometry g)
    {
        fixed (float* px = x.Span, py = y.Span)
            Pooling.Avg(px, py, g);
    }

    public void AvgPool2dGrad(in StorageView dy, in StorageView dx, in PoolGeometry g)
    {
        fixed (float* pdy = dy.Span, pdx = dx.Span)
            Pooling.AvgGrad(pdy, pdx, g);
    }
}
