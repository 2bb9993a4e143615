using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Max pooling over kernel x kernel windows (stride defaults to the kernel, as in PyTorch and Keras).</summary>
    public Tensor MaxPool2d(int kernel, int? stride = null, int padding = 0) => PoolNode.Apply(this, kernel, stride ?? kernel, padding, max: true);

    /// <summary>Average pooling; padded positions count toward the divisor (PyTorch's count_include_pad).</summary>
    public Tensor AvgPool2d(int kernel, int? stride = null, int padding = 0) => PoolNode.Apply(this, kernel, stride ?? kernel, padding, max: false);
}

internal sealed class PoolNode : PooledNode<PoolNode>
{
    private PoolGeometry _g;
    private Tensor? _indices;

    public PoolNode() { }

    private protected override void ClearSaved() => _indices = null;

    public override string Name => _indices is null ? "AvgPool2dBackward" : "MaxPool2dBackward";

    public static Tensor Apply(Tensor x, int kernel, int stride, int padding, bool max)
    {
        string op = max ? "MaxPool2d" : "AvgPool2d";
        if (x.Rank != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(x.Shape)}.");
        if (kernel < 1 || stride < 1 || padding < 0 || padding * 2 > kernel)
            throw new ArgumentException($"{op}: invalid kernel {kernel}, stride {stride}, padding {padding} (padding may be at most half the kernel).");
        var g = new PoolGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], kernel, kernel, stride, stride, padding, padding);
        if (g.H + 2 * padding < kernel || g.W + 2 * padding < kernel)
            throw new ArgumentException($"{op}: kernel {kernel} does not fit input {ShapeUtil.Format(x.Shape)} with padding {padding}.");
        var y = Tensor.Empty([g.N, g.C, g.OutH, g.OutW], x.Device);
        Tensor? indices = null;
        if (max)
        {
            indices = Tensor.Empty(y.Shape, x.Device);
            x.Backend.MaxPool2d(x, y, indices, g);
        }
        else x.Backend.AvgPool2d(x, y, g);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<PoolNode>.Rent();
            (node._g, node._indices) = (g, indices);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor gy)
    {
        var dx = Tensor.Empty(Inputs[0].Shape, gy.Device);
        if (_indices is not null) gy.Backend.MaxPool2dGrad(gy, _indices, dx, _g);
        else gy.Backend.AvgPool2dGrad(gy, dx, _g);
        return Grads(dx);
    }
}
