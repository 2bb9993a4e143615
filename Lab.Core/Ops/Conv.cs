using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>
/// Padding of a convolution: explicit sizes per axis (an int pads both), "valid" (none), or PyTorch's "same": the
/// output keeps the input's size (stride 1 only); the dilated kernel extent minus one is split between the two sides,
/// and when it is odd the extra row or column goes to the bottom or right.
/// </summary>
public readonly record struct Padding(int H, int W, bool Same = false)
{
    public static readonly Padding Valid = new(0, 0);
    public static readonly Padding SameSize = new(0, 0, Same: true);
    public static implicit operator Padding(int p) => new(p, p);
    public static implicit operator Padding((int H, int W) p) => new(p.H, p.W);

    public static Padding Parse(string text) => text.ToLowerInvariant() switch
    {
        "valid" => Valid,
        "same" => SameSize,
        _ => throw new ArgumentException($"Padding '{text}': expected \"valid\", \"same\" or a number."),
    };

    public override string ToString() => Same ? "same" : H == W ? $"{H}" : $"{H}x{W}";
}

/// <summary>
/// An int or an (H, W) pair, as PyTorch's kernel_size, stride and dilation take them. An omitted argument,
/// <c>default(Size2)</c>, is (1, 1): the default stride and dilation.
/// </summary>
public readonly record struct Size2
{
    // Stored minus one, so that the all-zero default is (1, 1).
    private readonly int _hMinus1, _wMinus1;

    public Size2(int h, int w) => (_hMinus1, _wMinus1) = (h - 1, w - 1);

    public int H => _hMinus1 + 1;
    public int W => _wMinus1 + 1;
    public bool IsOne => H == 1 && W == 1;

    public static implicit operator Size2(int n) => new(n, n);
    public static implicit operator Size2((int H, int W) p) => new(p.H, p.W);
    public void Deconstruct(out int h, out int w) => (h, w) = (H, W);

    public override string ToString() => H == W ? $"{H}" : $"{H}x{W}";
}

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation) of N x C x H x W input with K x (C / groups) x R x S weights, PyTorch's
    /// conv2d: per-axis stride and padding, dilation (rows and columns between kernel taps), and groups (output
    /// channels of group g see only input channels of group g; groups == C is a depthwise convolution).
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, Size2 stride = default, Padding padding = default,
        Size2 dilation = default, int groups = 1)
        => ConvNode.Forward(x, weight, bias, ConvNode.ConvGeometryOf(x, weight, bias, stride, padding, dilation, groups));

    /// <summary>
    /// Transposed convolution of N x Cin x H x W input with Cin x (Cout / groups) x R x S weights: the adjoint (input
    /// gradient) of the Conv2d with the same stride, padding, dilation and groups, PyTorch's conv_transpose2d.
    /// </summary>
    /// <remarks><paramref name="outputPadding"/> adds rows and columns at the bottom/right, choosing among the input
    /// sizes that a strided convolution maps to the same output size; each side must be smaller than the stride or
    /// the dilation of its axis.</remarks>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, Size2 stride = default, Padding padding = default,
        Padding outputPadding = default, int groups = 1, Size2 dilation = default)
        => ConvNode.Adjoint(x, weight, bias, ConvNode.TransposedGeometryOf(x, weight, bias, stride, padding, outputPadding, groups, dilation));
}

/// <summary>
/// The three products of a convolution, each the others' gradient, so all live here: the convolution y = conv(x, w),
/// its adjoint in x (the transposed convolution) dx = convᵀ(dy, w), and its adjoint in w (the weight gradient)
/// dw = corr(x, dy). Every backward is made of these three, recorded again under createGraph, so gradients of any
/// order are right; with recording off, each is a single kernel call. All three share one geometry: that of the
/// convolution (for a transposed convolution, the convolution it is the adjoint of).
/// </summary>
internal sealed class ConvNode : PooledNode<ConvNode>
{
    private enum Product { Conv, Adjoint, WeightGrad }

    private ConvGeometry _g;
    private Product _product;

    public ConvNode() { }

    public override string Name => _product switch
    {
        Product.Conv => "Conv2dBackward",
        Product.Adjoint => "ConvTranspose2dBackward",
        _ => "Conv2dWeightGradBackward",
    };

    private static void Record(Tensor y, Product product, Tensor a, Tensor b, Tensor? bias, in ConvGeometry g)
    {
        if (!(Tensor.ShouldRecord(a, b) || (bias is not null && Tensor.ShouldRecord(bias)))) return;
        var node = NodePool<ConvNode>.Rent();
        (node._g, node._product) = (g, product);
        if (bias is null) node.SetInputs(a, b);
        else node.SetInputs(a, b, bias);
        y.Record(node);
    }

    /// <summary>y = conv(x, w) + bias: N x C x H x W to N x K x OH x OW.</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias, in ConvGeometry g)
    {
        var y = Tensor.Empty([g.N, g.K, g.OutH, g.OutW], x.Device);
        x.Backend.Conv2d(x, w, bias, y, g);
        Anomaly.Check("Conv2d", y);
        Record(y, Product.Conv, x, w, bias, g);
        return y;
    }

    /// <summary>y = convᵀ(d, w) + bias: N x K x OH x OW back to N x C x H x W (ConvTranspose2d, and Conv2d's input gradient).</summary>
    public static Tensor Adjoint(Tensor d, Tensor w, Tensor? bias, in ConvGeometry g)
    {
        var y = Tensor.Empty([g.N, g.C, g.H, g.W], d.Device);
        d.Backend.Conv2dGradInput(d, w, y, g);
        if (bias is not null) y.Backend.Binary(BinaryOp.Add, y, bias.ReshapeView([g.C, 1, 1]), y);
        Anomaly.Check("ConvTranspose2d", y);
        Record(y, Product.Adjoint, d, w, bias, g);
        return y;
    }

    /// <summary>dw = corr(x, d), K x (C / groups) x R x S: the weight gradient of conv(x, ·) for output gradient d.</summary>
    public static Tensor WeightGrad(Tensor x, Tensor d, in ConvGeometry g)
    {
        var dw = Tensor.Empty([g.K, g.GroupC, g.R, g.S], x.Device);
        x.Backend.Conv2dGradWeight(x, d, dw, g);
        Anomaly.Check("Conv2dWeightGrad", dw);
        Record(dw, Product.WeightGrad, x, d, null, g);
        return dw;
    }

    /// <summary>
    /// For y = conv(x, w) + b: dx = convᵀ(gy, w), dw = corr(x, gy), db = gy summed per channel. For y = convᵀ(d, w) + b:
    /// dd = conv(gy, w), dw = corr(gy, d), db likewise. For dw = corr(x, d), whose output gradient gw has the weights'
    /// shape: &lt;gw, corr(x, d)&gt; = &lt;d, conv(x, gw)&gt;, so dx = convᵀ(d, gw) and dd = conv(x, gw).
    /// </summary>
    public override Tensor?[] Backward(Tensor gy)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        var grads = GradBuffer(Inputs.Length);
        switch (_product)
        {
            case Product.Conv:
                if (Needs(0)) grads[0] = Adjoint(gy, b, null, _g);
                if (Needs(1)) grads[1] = WeightGrad(a, gy, _g);
                break;
            case Product.Adjoint:
                if (Needs(0)) grads[0] = Forward(gy, b, null, _g);
                if (Needs(1)) grads[1] = WeightGrad(gy, a, _g);
                break;
            default:
                if (Needs(0)) grads[0] = Adjoint(b, gy, null, _g);
                if (Needs(1)) grads[1] = Forward(a, gy, null, _g);
                break;
        }
        if (Inputs.Length == 3 && Needs(2)) grads[2] = ChannelSum(gy);
        return grads;
    }

    // A field, not a collection expression: Debug builds allocate those on every call.
    private static readonly int[] BatchAndSpatialAxes = [0, 2, 3];

    /// <summary>The bias gradient: a recorded reduction under createGraph, the kernel otherwise.</summary>
    internal static Tensor ChannelSum(Tensor gy)
    {
        if (Tensor.ShouldRecord(gy)) return gy.Sum(BatchAndSpatialAxes);
        int channels = gy.Shape[1];
        var db = Tensor.Empty([channels], gy.Device);
        gy.Backend.ChannelSum(gy, db, gy.Shape[0], channels, gy.Shape[2] * gy.Shape[3]);
        return db;
    }

    /// <summary>Checks Conv2d's arguments and returns its geometry.</summary>
    public static ConvGeometry ConvGeometryOf(Tensor x, Tensor w, Tensor? bias, Size2 stride, Padding padding, Size2 dilation, int groups)
    {
        const string op = "Conv2d";
        if (x.Rank != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(x.Shape)}.");
        if (w.Rank != 4) throw new ArgumentException($"{op}: expected weight K x C/groups x R x S, got shape {ShapeUtil.Format(w.Shape)}.");
        int c = x.Shape[1], k = w.Shape[0], r = w.Shape[2], s = w.Shape[3];
        CheckGroups(op, groups, c);
        if (k % groups != 0)
            throw new ArgumentException($"{op}: weight {ShapeUtil.Format(w.Shape)} has {k} output channels, not divisible by groups {groups}.");
        if (w.Shape[1] * groups != c)
            throw new ArgumentException($"{op}: input has {c} channels but weight {ShapeUtil.Format(w.Shape)} with groups {groups} expects {w.Shape[1] * groups}.");
        CheckStrideAndDilation(op, stride, dilation);
        // "same": the dilated kernel extent minus one, split with the odd one out at the bottom/right (PyTorch).
        int extentH = dilation.H * (r - 1), extentW = dilation.W * (s - 1);
        var (ph, pw, extraH, extraW) = (padding.H, padding.W, 0, 0);
        if (padding.Same)
        {
            if (!stride.IsOne) throw new ArgumentException($"{op}: \"same\" padding needs stride 1, got stride {stride} (PyTorch allows no other).");
            (ph, pw, extraH, extraW) = (extentH / 2, extentW / 2, extentH % 2, extentW % 2);
        }
        if (ph < 0 || pw < 0) throw new ArgumentException($"{op}: padding must not be negative, got {ph}x{pw}.");
        if (x.Shape[2] + 2 * ph + extraH < extentH + 1 || x.Shape[3] + 2 * pw + extraW < extentW + 1)
            throw new ArgumentException($"{op}: kernel {r}x{s} (dilation {dilation}, extent {extentH + 1}x{extentW + 1}) is larger than the padded input " +
                $"{x.Shape[2] + 2 * ph + extraH}x{x.Shape[3] + 2 * pw + extraW} (input shape {ShapeUtil.Format(x.Shape)}).");
        CheckBias(op, bias, k);
        CheckDevices(op, x, w, bias);
        return new ConvGeometry(x.Shape[0], c, x.Shape[2], x.Shape[3], k, r, s, stride.H, stride.W, ph, pw,
            dilation.H, dilation.W, groups, extraH, extraW);
    }

    /// <summary>
    /// Checks ConvTranspose2d's arguments and returns the geometry of the convolution it is the adjoint of: from Cout
    /// channels at the output size to Cin channels at the input size. The output padding rows are rows of that
    /// convolution's input that no output reads (negative extra padding), so its output size is exactly the input's.
    /// </summary>
    public static ConvGeometry TransposedGeometryOf(Tensor x, Tensor w, Tensor? bias, Size2 stride, Padding padding,
        Padding outputPadding, int groups, Size2 dilation)
    {
        const string op = "ConvTranspose2d";
        if (x.Rank != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(x.Shape)}.");
        if (w.Rank != 4) throw new ArgumentException($"{op}: expected weight Cin x Cout/groups x R x S, got shape {ShapeUtil.Format(w.Shape)}.");
        int cin = x.Shape[1], cout = w.Shape[1] * groups, r = w.Shape[2], s = w.Shape[3];
        if (w.Shape[0] != cin)
            throw new ArgumentException($"{op}: input has {cin} channels but weight {ShapeUtil.Format(w.Shape)} expects {w.Shape[0]}.");
        CheckGroups(op, groups, cin);
        CheckStrideAndDilation(op, stride, dilation);
        if (padding.Same || outputPadding.Same) throw new ArgumentException($"{op}: \"same\" padding is not defined for a transposed convolution.");
        if (padding.H < 0 || padding.W < 0) throw new ArgumentException($"{op}: padding must not be negative, got {padding.H}x{padding.W}.");
        var (oph, opw) = (outputPadding.H, outputPadding.W);
        if (oph < 0 || opw < 0 || oph >= Math.Max(stride.H, dilation.H) || opw >= Math.Max(stride.W, dilation.W))
            throw new ArgumentException($"{op}: output padding {oph}x{opw} must be at least 0 and smaller than the stride ({stride.H}x{stride.W}) " +
                $"or the dilation ({dilation.H}x{dilation.W}) on each axis.");
        int outH = (x.Shape[2] - 1) * stride.H - 2 * padding.H + dilation.H * (r - 1) + 1 + oph;
        int outW = (x.Shape[3] - 1) * stride.W - 2 * padding.W + dilation.W * (s - 1) + 1 + opw;
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: padding {padding.H}x{padding.W} leaves no output ({outH}x{outW}) for input {ShapeUtil.Format(x.Shape)} and weight {ShapeUtil.Format(w.Shape)}.");
        CheckBias(op, bias, cout);
        CheckDevices(op, x, w, bias);
        return new ConvGeometry(x.Shape[0], cout, outH, outW, cin, r, s, stride.H, stride.W, padding.H, padding.W,
            dilation.H, dilation.W, groups, -oph, -opw);
    }

    private static void CheckGroups(string op, int groups, int inputChannels)
    {
        if (groups < 1) throw new ArgumentException($"{op}: groups must be at least 1, got {groups}.");
        if (inputChannels % groups != 0)
            throw new ArgumentException($"{op}: the input's {inputChannels} channels are not divisible by groups {groups}.");
    }

    private static void CheckStrideAndDilation(string op, Size2 stride, Size2 dilation)
    {
        if (stride.H < 1 || stride.W < 1) throw new ArgumentException($"{op}: stride must be at least 1, got {stride.H}x{stride.W}.");
        if (dilation.H < 1 || dilation.W < 1) throw new ArgumentException($"{op}: dilation must be at least 1, got {dilation.H}x{dilation.W}.");
    }

    private static void CheckBias(string op, Tensor? bias, int channels)
    {
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != channels))
            throw new ArgumentException($"{op}: bias must have shape [{channels}], got {ShapeUtil.Format(bias.Shape)}.");
    }

    private static void CheckDevices(string op, Tensor x, Tensor w, Tensor? bias)
    {
        if (x.Device != w.Device || (bias is not null && bias.Device != x.Device))
            throw new ArgumentException($"{op}: input, weight and bias must be on one device (got {x.Device}, {w.Device}{(bias is null ? "" : ", " + bias.Device)}).");
    }
}
