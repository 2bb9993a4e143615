using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Max pooling, as PyTorch's max_pool2d: stride defaults to the kernel; padding (at most half the kernel) never wins;
    /// <paramref name="dilation"/> spaces the window's taps; <paramref name="ceilMode"/> keeps a partial last window
    /// that starts inside the input or its left padding. Each window's gradient goes to its first maximum in
    /// row-major order (or its last NaN).
    /// </summary>
    public Tensor MaxPool2d(Size2 kernel, Size2? stride = null, Padding padding = default, Size2 dilation = default, bool ceilMode = false)
        => PoolNode.Apply(this, PoolNode.Geometry("MaxPool2d", this, kernel, stride, padding, dilation, ceilMode, countIncludePad: true), max: true);

    /// <summary>
    /// Average pooling, as PyTorch's avg_pool2d: with <paramref name="countIncludePad"/> (the default) padded positions
    /// count toward the divisor, otherwise only the window's taps inside the input do; <paramref name="ceilMode"/> as for
    /// <see cref="MaxPool2d"/> (a partial window's part beyond the padding never counts).
    /// </summary>
    public Tensor AvgPool2d(Size2 kernel, Size2? stride = null, Padding padding = default, bool ceilMode = false, bool countIncludePad = true)
        => PoolNode.Apply(this, PoolNode.Geometry("AvgPool2d", this, kernel, stride, padding, 1, ceilMode, countIncludePad), max: false);
}

/// <summary>
/// Max and average pooling and their gradients as two adjoint pairs, so that every backward is a recorded op and
/// gradients of any order come out right: max pooling is, locally, a gather at its saved argmax, whose gradient is a
/// scatter to those positions, whose gradient is the gather again; average pooling's gradient is its adjoint, whose
/// gradient is average pooling. The kernels are the same fast ones whether the pass is recorded or not.
/// </summary>
internal sealed class PoolNode : PooledNode<PoolNode>
{
    private enum Kind { MaxGather, MaxScatter, Avg, AvgAdjoint }

    private Kind _kind;
    private PoolGeometry _g;
    private Tensor? _indices;

    public PoolNode() { }

    private protected override void ClearSaved() => _indices = null;

    public override string Name => _kind switch
    {
        Kind.MaxGather => "MaxPool2dBackward",
        Kind.MaxScatter => "MaxPool2dGradBackward",
        Kind.Avg => "AvgPool2dBackward",
        _ => "AvgPool2dGradBackward",
    };

    private static void Record(Tensor y, Tensor x, Kind kind, in PoolGeometry g, Tensor? indices)
    {
        if (!Tensor.ShouldRecord(x)) return;
        var node = NodePool<PoolNode>.Rent();
        (node._kind, node._g, node._indices) = (kind, g, indices);
        node.SetInputs(x);
        y.Record(node);
    }

    /// <summary>The geometry of a pooling call, its arguments checked as PyTorch checks them.</summary>
    public static PoolGeometry Geometry(string op, Tensor x, Size2 kernel, Size2? strideOrKernel, Padding padding, Size2 dilation,
        bool ceilMode, bool countIncludePad)
        => Geometry(op, x.Shape, kernel, strideOrKernel, padding, dilation, ceilMode, countIncludePad);

    /// <summary>The geometry of pooling an input of <paramref name="shape"/> (one not made yet: a fused op's intermediate).</summary>
    public static PoolGeometry Geometry(string op, ReadOnlySpan<int> shape, Size2 kernel, Size2? strideOrKernel, Padding padding, Size2 dilation,
        bool ceilMode, bool countIncludePad)
    {
        if (shape.Length != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(shape)}.");
        var stride = strideOrKernel ?? kernel;
        if (kernel.H < 1 || kernel.W < 1) throw new ArgumentException($"{op}: kernel size must be positive, got {kernel}.");
        if (stride.H < 1 || stride.W < 1) throw new ArgumentException($"{op}: stride must be positive, got {stride}.");
        if (dilation.H < 1 || dilation.W < 1) throw new ArgumentException($"{op}: dilation must be positive, got {dilation}.");
        if (padding.Same) throw new ArgumentException($"{op}: \"same\" padding is for convolutions; give the padding per axis.");
        if (padding.H < 0 || padding.W < 0 || padding.H > kernel.H / 2 || padding.W > kernel.W / 2)
            throw new ArgumentException($"{op}: padding {padding} must be between 0 and half the kernel {kernel}.");
        var g = new PoolGeometry(shape[0], shape[1], shape[2], shape[3], kernel.H, kernel.W, stride.H, stride.W,
            padding.H, padding.W, dilation.H, dilation.W, ceilMode, countIncludePad);
        if (g.OutH < 1 || g.OutW < 1)
        {
            int spanH = dilation.H * (kernel.H - 1) + 1, spanW = dilation.W * (kernel.W - 1) + 1;
            throw new ArgumentException($"{op}: kernel {kernel} (spanning {spanH}x{spanW} with dilation {dilation}) does not fit input {ShapeUtil.Format(shape)} with padding {padding}.");
        }
        return g;
    }

    public static Tensor Apply(Tensor x, in PoolGeometry g, bool max)
    {
        var y = Tensor.Empty([g.N, g.C, g.OutH, g.OutW], x.Device);
        if (max)
        {
            var indices = Tensor.Empty(y.Shape, x.Device);
            x.Backend.MaxPool2d(x, y, indices, g);
            Record(y, x, Kind.MaxGather, g, indices);
        }
        else
        {
            x.Backend.AvgPool2d(x, y, g);
            Record(y, x, Kind.Avg, g, null);
        }
        return y;
    }

    /// <summary>An input-shaped tensor holding each of <paramref name="gy"/>'s values at its window's argmax (summed where windows share one).</summary>
    internal static Tensor MaxScatter(Tensor gy, Tensor indices, in PoolGeometry g)
    {
        var dx = Tensor.Empty([g.N, g.C, g.H, g.W], gy.Device);
        gy.Backend.MaxPool2dGrad(gy, indices, dx, g);
        Record(dx, gy, Kind.MaxScatter, g, indices);
        return dx;
    }

    /// <summary>An output-shaped tensor of <paramref name="x"/>'s values at each window's argmax.</summary>
    private static Tensor MaxGather(Tensor x, Tensor indices, in PoolGeometry g)
    {
        var y = Tensor.Empty([g.N, g.C, g.OutH, g.OutW], x.Device);
        x.Backend.MaxPool2dGather(x, indices, y, g);
        Record(y, x, Kind.MaxGather, g, indices);
        return y;
    }

    /// <summary>Each of <paramref name="gy"/>'s values divided by its window's divisor and spread over the window.</summary>
    private static Tensor AvgAdjoint(Tensor gy, in PoolGeometry g)
    {
        var dx = Tensor.Empty([g.N, g.C, g.H, g.W], gy.Device);
        gy.Backend.AvgPool2dGrad(gy, dx, g);
        Record(dx, gy, Kind.AvgAdjoint, g, null);
        return dx;
    }

    private static Tensor AvgPool(Tensor x, in PoolGeometry g)
    {
        var y = Tensor.Empty([g.N, g.C, g.OutH, g.OutW], x.Device);
        x.Backend.AvgPool2d(x, y, g);
        Record(y, x, Kind.Avg, g, null);
        return y;
    }

    public override Tensor?[] Backward(Tensor gy) => Grads(_kind switch
    {
        Kind.MaxGather => MaxScatter(gy, _indices!, _g),
        Kind.MaxScatter => MaxGather(gy, _indices!, _g),
        Kind.Avg => AvgAdjoint(gy, _g),
        _ => AvgPool(gy, _g),
    });
}
