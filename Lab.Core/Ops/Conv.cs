using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>Padding of a convolution: explicit sizes, or Keras's "valid" (none) and "same" (output size = input size / stride).</summary>
public readonly record struct Padding(int H, int W, bool Same = false)
{
    public static readonly Padding Valid = new(0, 0);
    public static readonly Padding SameSize = new(0, 0, Same: true);
    public static implicit operator Padding(int p) => new(p, p);

    public static Padding Parse(string text) => text.ToLowerInvariant() switch
    {
        "valid" => Valid,
        "same" => SameSize,
        _ => throw new ArgumentException($"Padding '{text}': expected \"valid\", \"same\" or a number."),
    };
}

public sealed partial class Tensor
{
    /// <summary>2-D convolution (cross-correlation) of N x C x H x W input with K x C x R x S weights, PyTorch layout.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, Padding padding = default)
        => ConvNode.Conv(x, weight, bias, stride, padding);

    /// <summary>Transposed convolution of N x Cin x H x W input with Cin x Cout x R x S weights (the adjoint of Conv2d).</summary>
    /// <remarks><paramref name="outputPadding"/> adds rows and columns at the bottom/right, choosing among the input
    /// sizes that a strided convolution maps to the same output size (PyTorch's output_padding).</remarks>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0)
        => ConvNode.ConvTranspose(x, weight, bias, stride, padding, outputPadding, outputPadding);
}

/// <summary>Conv2d and ConvTranspose2d: each is the other's input gradient, so both live here.</summary>
internal sealed class ConvNode : PooledNode<ConvNode>
{
    private ConvGeometry _g;
    private bool _transposed;

    public ConvNode() { }

    private static void Record(Tensor y, Tensor x, Tensor w, Tensor? bias, ConvGeometry g, bool transposed)
    {
        if (!(Tensor.ShouldRecord(x, w) || (bias is not null && Tensor.ShouldRecord(bias)))) return;
        var node = NodePool<ConvNode>.Rent();
        (node._g, node._transposed) = (g, transposed);
        if (bias is null) node.SetInputs(x, w);
        else node.SetInputs(x, w, bias);
        y.Record(node);
    }

    public override string Name => _transposed ? "ConvTranspose2dBackward" : "Conv2dBackward";

    public static Tensor Conv(Tensor x, Tensor w, Tensor? bias, int stride, Padding padding)
    {
        const string op = "Conv2d";
        if (x.Rank != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(x.Shape)}.");
        if (w.Rank != 4) throw new ArgumentException($"{op}: expected weight K x C x R x S, got shape {ShapeUtil.Format(w.Shape)}.");
        if (w.Shape[1] != x.Shape[1])
            throw new ArgumentException($"{op}: input has {x.Shape[1]} channels but weight {ShapeUtil.Format(w.Shape)} expects {w.Shape[1]}.");
        if (stride < 1) throw new ArgumentException($"{op}: stride must be at least 1, got {stride}.");
        int r = w.Shape[2], s = w.Shape[3];
        int ph = padding.H, pw = padding.W;
        if (padding.Same)
        {
            if (stride != 1 || r % 2 == 0 || s % 2 == 0)
                throw new ArgumentException($"{op}: \"same\" padding needs stride 1 and odd kernel sizes (got stride {stride}, kernel {r}x{s}).");
            (ph, pw) = (r / 2, s / 2);
        }
        if (ph < 0 || pw < 0) throw new ArgumentException($"{op}: negative padding {ph}x{pw}.");
        var g = new ConvGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], w.Shape[0], r, s, stride, stride, ph, pw);
        if (x.Shape[2] + 2 * ph < r || x.Shape[3] + 2 * pw < s)
            throw new ArgumentException($"{op}: kernel {r}x{s} is larger than the padded input {x.Shape[2] + 2 * ph}x{x.Shape[3] + 2 * pw} (input shape {ShapeUtil.Format(x.Shape)}).");
        CheckBias(op, bias, g.K);
        CheckDevices(op, x, w, bias);
        var y = Tensor.Empty([g.N, g.K, g.OutH, g.OutW], x.Device);
        x.Backend.Conv2d(x, w, bias, y, g);
        Anomaly.Check(op, y);
        Record(y, x, w, bias, g, transposed: false);
        return y;
    }

    public static Tensor ConvTranspose(Tensor x, Tensor w, Tensor? bias, int stride, int padding, int extraH, int extraW)
    {
        const string op = "ConvTranspose2d";
        if (x.Rank != 4) throw new ArgumentException($"{op}: expected input N x C x H x W, got shape {ShapeUtil.Format(x.Shape)}.");
        if (w.Rank != 4) throw new ArgumentException($"{op}: expected weight Cin x Cout x R x S, got shape {ShapeUtil.Format(w.Shape)}.");
        if (w.Shape[0] != x.Shape[1])
            throw new ArgumentException($"{op}: input has {x.Shape[1]} channels but weight {ShapeUtil.Format(w.Shape)} expects {w.Shape[0]}.");
        if (stride < 1 || padding < 0) throw new ArgumentException($"{op}: stride {stride} must be >= 1 and padding {padding} >= 0.");
        if (extraH < 0 || extraW < 0 || extraH >= stride || extraW >= stride)
            throw new ArgumentException($"{op}: output padding {extraH}x{extraW} must be smaller than the stride {stride}.");
        int r = w.Shape[2], s = w.Shape[3];
        int outH = (x.Shape[2] - 1) * stride - 2 * padding + r + extraH, outW = (x.Shape[3] - 1) * stride - 2 * padding + s + extraW;
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"{op}: padding {padding} leaves no output for input {ShapeUtil.Format(x.Shape)}.");
        // The convolution this is the adjoint of: from Cout channels at outH x outW to Cin channels at H x W.
        var g = new ConvGeometry(x.Shape[0], w.Shape[1], outH, outW, w.Shape[0], r, s, stride, stride, padding, padding);
        CheckBias(op, bias, g.C);
        CheckDevices(op, x, w, bias);
        var y = Tensor.Empty([g.N, g.C, outH, outW], x.Device);
        x.Backend.Conv2dGradInput(x, w, y, g);
        if (bias is not null) y.Backend.Binary(BinaryOp.Add, y, bias.ReshapeView([g.C, 1, 1]), y);
        Anomaly.Check(op, y);
        Record(y, x, w, bias, g, transposed: true);
        return y;
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

    public override Tensor?[] Backward(Tensor gy)
    {
        var (x, w) = (Inputs[0], Inputs[1]);
        var grads = GradBuffer(Inputs.Length);
        int stride = _g.StrideH, pad = _g.PadH;
        if (!_transposed)
        {
            // dx is the transposed convolution of dy (differentiable again); dw and db come from kernels.
            if (Needs(0)) grads[0] = ConvTranspose(gy, w, null, stride, pad, _g.H - ((_g.OutH - 1) * stride - 2 * pad + _g.R), _g.W - ((_g.OutW - 1) * stride - 2 * pad + _g.S));
            if (Needs(1)) grads[1] = KernelGradWeight(x, gy, w.ShapeRef);
            if (Inputs.Length == 3 && Needs(2)) grads[2] = ChannelSum(gy, _g.K);
        }
        else
        {
            // y = convᵀ(x, w): dx = conv(dy, w); dw pairs dy (the convolution's input) with x (its output gradient).
            if (Needs(0)) grads[0] = Tensor.Conv2d(gy, w, null, stride, new Padding(pad, pad));
            if (Needs(1)) grads[1] = KernelGradWeight(gy, x, w.ShapeRef);
            if (Inputs.Length == 3 && Needs(2)) grads[2] = ChannelSum(gy, _g.C);
        }
        return grads;
    }

    private Tensor KernelGradWeight(Tensor convInput, Tensor convOutputGrad, ReadOnlySpan<int> shape)
    {
        var dw = Tensor.Empty(shape, convInput.Device);
        convInput.Backend.Conv2dGradWeight(convInput, convOutputGrad, dw, _g);
        return dw;
    }

    private static Tensor ChannelSum(Tensor gy, int channels)
    {
        var db = Tensor.Empty([channels], gy.Device);
        gy.Backend.ChannelSum(gy, db, gy.Shape[0], channels, gy.Shape[2] * gy.Shape[3]);
        return db;
    }
}
