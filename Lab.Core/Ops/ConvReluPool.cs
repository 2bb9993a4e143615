using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// max_pool2d(relu(conv2d(x, weight, bias, ...)), poolKernel, poolStride) as one op: the values and the gradients
    /// to x, weight and bias (of any order) are those of the three ops in a row, without the ReLU's output and its
    /// gradient ever being written (a CNN's conv, ReLU, pool block; <see cref="Nn.Sequential"/> uses it for such a
    /// block). The pooling has no padding, dilation or ceil mode; the convolution takes all of <see cref="Conv2d"/>'s options.
    /// </summary>
    public static Tensor Conv2dReluMaxPool2d(Tensor x, Tensor weight, Tensor? bias, Size2 poolKernel, Size2? poolStride = null,
        Size2 stride = default, Padding padding = default, Size2 dilation = default, int groups = 1)
        => ConvReluPoolNode.Apply(x, weight, bias, ConvNode.ConvGeometryOf(x, weight, bias, stride, padding, dilation, groups), poolKernel, poolStride);
}

/// <summary>
/// The fused convolution, ReLU and max pooling. With z = conv(x, w) + b, y = maxpool(relu(z)) = relu(maxpool(z)), and
/// the gradient reaching z is the pooled gradient scattered to each window's argmax where the window's output is
/// positive, since that is where ReLU passes it (and where the first maximum of relu(z) is the first of z). That is
/// all the backward needs of the forward (y and the argmax), so z lives only for the forward's pooling pass.
/// The conv part's gradients are <see cref="ConvNode"/>'s products, recorded under createGraph like the masked
/// scatter, so higher-order gradients are exact: ReLU's and the pool's masks are constants almost everywhere.
/// </summary>
internal sealed class ConvReluPoolNode : PooledNode<ConvReluPoolNode>
{
    private ConvGeometry _conv;
    private PoolGeometry _pool;
    private Tensor? _y, _indices;

    public ConvReluPoolNode() { }

    public override string Name => "Conv2dReluMaxPool2dBackward";

    private protected override void ClearSaved() => (_y, _indices) = (null, null);

    public static Tensor Apply(Tensor x, Tensor w, Tensor? bias, in ConvGeometry g, Size2 poolKernel, Size2? poolStride)
    {
        const string op = "Conv2dReluMaxPool2d";
        var pool = PoolNode.Geometry(op, [g.N, g.K, g.OutH, g.OutW], poolKernel, poolStride, default, 1, ceilMode: false, countIncludePad: true);
        var y = Tensor.Empty([pool.N, pool.C, pool.OutH, pool.OutW], x.Device);
        var indices = Tensor.Empty(y.Shape, x.Device);
        if (x.Backend.FusesConv2dReluMaxPool2d(g, pool)) x.Backend.Conv2dReluMaxPool2d(x, w, bias, y, indices, g, pool);
        else
        {
            var z = Tensor.Empty([g.N, g.K, g.OutH, g.OutW], x.Device);
            x.Backend.Conv2d(x, w, bias, z, g);
            x.Backend.ReluMaxPool2d(z, y, indices, pool);
        }
        Anomaly.Check(op, y);
        if (Tensor.ShouldRecord(x, w) || (bias is not null && Tensor.ShouldRecord(bias)))
        {
            var node = NodePool<ConvReluPoolNode>.Rent();
            (node._conv, node._pool, node._y, node._indices) = (g, pool, y, indices);
            if (bias is null) node.SetInputs(x, w);
            else node.SetInputs(x, w, bias);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor gy)
    {
        var (x, w) = (Inputs[0], Inputs[1]);
        var grads = GradBuffer(Inputs.Length);
        bool recorded = Tensor.ShouldRecord(gy);
        if (!recorded && gy.Backend.FusesConv2dReluMaxPool2dGradWeight(_conv, _pool)
            && (!Needs(0) || gy.Backend.FusesConv2dReluMaxPool2dGradInput(_conv, _pool)))
        {
            // Straight from the pooled gradient, without the convolution-sized one (a first layer needs no input gradient).
            var db = Inputs.Length == 3 && Needs(2) ? Tensor.Empty([_conv.K], gy.Device) : null;
            if (Needs(1) || db is not null)
            {
                var dw = Tensor.Empty(w.Shape, gy.Device);
                gy.Backend.Conv2dReluMaxPool2dGradWeight(x, gy, _y!, _indices!, dw, db, _conv, _pool);
                if (Needs(1)) grads[1] = dw;
                if (db is not null) grads[2] = db;
            }
            if (Needs(0))
            {
                var dx = Tensor.Empty(x.Shape, gy.Device);
                gy.Backend.Conv2dReluMaxPool2dGradInput(gy, _y!, _indices!, w, dx, _conv, _pool);
                Anomaly.Check("Conv2dReluMaxPool2dBackward", dx);
                grads[0] = dx;
            }
            return grads;
        }
        Tensor dz;
        if (recorded)
            dz = PoolNode.MaxScatter(Tensor.Where(_y!.Le(0f), Tensor.Scalar(0f, gy.Device), gy), _indices!, _pool);
        else
        {
            dz = Tensor.Empty([_conv.N, _conv.K, _conv.OutH, _conv.OutW], gy.Device);
            gy.Backend.ReluMaxPool2dGrad(gy, _y!, _indices!, dz, _pool);
        }
        if (Needs(0)) grads[0] = ConvNode.Adjoint(dz, w, null, _conv);
        if (Needs(1)) grads[1] = ConvNode.WeightGrad(x, dz, _conv);
        if (Inputs.Length == 3 && Needs(2)) grads[2] = ConvNode.ChannelSum(dz);
        return grads;
    }
}
