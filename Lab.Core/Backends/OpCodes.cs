namespace Lab.Core.Backends;

/// <summary>Element-wise functions y = f(x; alpha, beta). One enum, so that every backend has one switch.</summary>
public enum UnaryOp
{
    Neg, Exp, Log, Sqrt, Abs, Sign, Relu,
    /// <summary>x for x &gt; 0, alpha * x otherwise.</summary>
    LeakyRelu,
    Sigmoid, Tanh,
    /// <summary>log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so it never overflows.</summary>
    Softplus,
    /// <summary>x ^ alpha.</summary>
    Pow,
    /// <summary>alpha * x + beta.</summary>
    Affine,
    /// <summary>min(max(x, alpha), beta).</summary>
    Clamp,
}

/// <summary>Broadcasting binary functions. Comparisons produce 1 or 0.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>Reductions over the middle axis of an [outer, n, inner] view. Arg* write indices as floats.</summary>
public enum ReduceOp { Sum, Max, Min, ArgMax, ArgMin }

/// <summary>Shape of a 2-D convolution (or of the convolution whose adjoint a transposed convolution is).</summary>
/// <param name="N">Batch.</param><param name="C">Input channels of the convolution.</param>
/// <param name="H">Input height.</param><param name="W">Input width.</param>
/// <param name="K">Output channels of the convolution.</param>
/// <param name="R">Kernel height.</param><param name="S">Kernel width.</param>
/// <param name="StrideH">Vertical stride.</param><param name="StrideW">Horizontal stride.</param>
/// <param name="PadH">Zero padding at the top (and, with <paramref name="ExtraPadH"/> 0, the bottom).</param>
/// <param name="PadW">Zero padding at the left (and, with <paramref name="ExtraPadW"/> 0, the right).</param>
/// <param name="DilationH">Rows between kernel taps.</param><param name="DilationW">Columns between kernel taps.</param>
/// <param name="Groups">Channel groups: output channels of group g see only its C / Groups input channels, so the
/// weights are K x (C / Groups) x R x S.</param>
/// <param name="ExtraPadH">Rows added to the bottom padding, or removed when negative: PyTorch's "same" with an even
/// kernel extent pads one more row at the bottom; a transposed convolution's output padding leaves rows that no
/// output of its adjoint reads.</param>
/// <param name="ExtraPadW">The same for the right padding.</param>
public readonly record struct ConvGeometry(int N, int C, int H, int W, int K, int R, int S,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH = 1, int DilationW = 1, int Groups = 1, int ExtraPadH = 0, int ExtraPadW = 0)
{
    public int OutH => (H + 2 * PadH + ExtraPadH - DilationH * (R - 1) - 1) / StrideH + 1;
    public int OutW => (W + 2 * PadW + ExtraPadW - DilationW * (S - 1) - 1) / StrideW + 1;

    /// <summary>Input channels per group (the weights' second dimension).</summary>
    public int GroupC => C / Groups;

    /// <summary>Output channels per group.</summary>
    public int GroupK => K / Groups;

    /// <summary>Rows of one group's im2col matrix and columns of its weight matrix: GroupC R S.</summary>
    public int GroupCrs => GroupC * R * S;

    /// <summary>A 1x1 convolution that reads every input pixel once, in place: its im2col matrix is the input.</summary>
    public bool IsPointwise => R == 1 && S == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0 && ExtraPadH == 0 && ExtraPadW == 0;
}

/// <summary>Shape of a 2-D pooling window over an N x C x H x W input, with PyTorch's options.</summary>
/// <param name="DilationH">Spacing of a window's rows (max pooling only).</param><param name="DilationW">Spacing of its columns.</param>
/// <param name="CeilMode">Output sizes round up, so that a partial last window counts, as long as it starts inside the input or its left padding.</param>
/// <param name="CountIncludePad">Average pooling divides by the window's area within the padded input; otherwise by its taps inside the input.</param>
public readonly record struct PoolGeometry(int N, int C, int H, int W, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH = 1, int DilationW = 1,
    bool CeilMode = false, bool CountIncludePad = true)
{
    public int OutH => OutSize(H, KernelH, StrideH, PadH, DilationH, CeilMode);
    public int OutW => OutSize(W, KernelW, StrideW, PadW, DilationW, CeilMode);

    /// <summary>PyTorch's pooling output size; at least 1 when the dilated kernel fits the padded input.</summary>
    public static int OutSize(int size, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        int span = size + 2 * pad - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        int outSize = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // A last window that would start in the right padding is dropped.
        if (ceilMode && (outSize - 1) * stride >= size + pad) outSize--;
        return outSize;
    }

    /// <summary>
    /// The divisor of average pooling's window at output (p, q): its area clipped to the padded input (rows
    /// or columns past it exist only in ceil mode), or, without <see cref="CountIncludePad"/>, to the input.
    /// </summary>
    public int AvgDivisor(int p, int q)
    {
        int h0 = p * StrideH - PadH, w0 = q * StrideW - PadW;
        int h1 = Math.Min(h0 + KernelH, H + PadH), w1 = Math.Min(w0 + KernelW, W + PadW);
        if (!CountIncludePad) (h0, w0, h1, w1) = (Math.Max(h0, 0), Math.Max(w0, 0), Math.Min(h1, H), Math.Min(w1, W));
        return (h1 - h0) * (w1 - w0);
    }
}

/// <summary>
/// One Adam step's scalars. StepSize already includes the bias corrections; with Keras's convention
/// epsilon is added to sqrt(v) as it is, with PyTorch's it is scaled by sqrt(1 - b2^t) (both are exact forms).
/// </summary>
public readonly record struct AdamArgs(float StepSize, float Beta1, float Beta2, float Epsilon, float WeightDecay, bool Decoupled, float DecoupledFactor);

/// <summary>Op names for messages and anomaly reports, cached so that a hot path formats nothing.</summary>
internal static class OpNames
{
    private static readonly string[] Unary = Enum.GetNames<UnaryOp>();
    private static readonly string[] Binary = Enum.GetNames<BinaryOp>();
    private static readonly string[] Reduce = Enum.GetNames<ReduceOp>();

    public static string Of(UnaryOp op) => Unary[(int)op];
    public static string Of(BinaryOp op) => Binary[(int)op];
    public static string Of(ReduceOp op) => Reduce[(int)op];

    private static readonly string[] UnaryBackward = Array.ConvertAll(Unary, n => n + "Backward");
    private static readonly string[] BinaryBackward = Array.ConvertAll(Binary, n => n + "Backward");

    /// <summary>The autograd node name of an op ("ReluBackward").</summary>
    public static string BackwardOf(UnaryOp op) => UnaryBackward[(int)op];
    public static string BackwardOf(BinaryOp op) => BinaryBackward[(int)op];
}
