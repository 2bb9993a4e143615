using Lab.Core.Diagnostics;

namespace Lab.Core.Nn;

/// <summary>
/// 2-D convolution layer, weight K x (C / groups) x R x S, with PyTorch's options (per-axis kernel size, stride and
/// padding, "same" padding, dilation, groups) and Keras's optional activation.
/// </summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2 stride = default, Padding padding = default,
        Activation activation = Activation.None, bool bias = true, InitStyle init = InitStyle.Keras, Generator? generator = null,
        Size2 dilation = default, int groups = 1,
        Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null)
    {
        ConvLayers.Check("Conv2d", inChannels, outChannels, kernelSize, stride, dilation, groups);
        if (padding.Same && !stride.IsOne)
            throw new ArgumentException($"Conv2d: \"same\" padding needs stride 1, got stride {stride} (PyTorch allows no other).");
        if (padding.H < 0 || padding.W < 0) throw new ArgumentException($"Conv2d: padding must not be negative, got {padding}.");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, Activation) =
            (inChannels, outChannels, kernelSize, stride, padding, dilation, groups, activation);
        int receptive = kernelSize.H * kernelSize.W;
        // PyTorch's fans: fan-in from the weight's dim 1 (C / groups), fan-out from dim 0.
        var (w, b) = Init.WeightAndBias(init, generator, [outChannels, inChannels / groups, kernelSize.H, kernelSize.W], outChannels,
            inChannels / groups * receptive, outChannels * receptive);
        Weight = RegisterParameter("weight", w, kernelRegularizer);
        if (bias) Bias = RegisterParameter("bias", b, biasRegularizer);
        ActivityRegularizer = activityRegularizer;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Padding Padding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }
    public Activation Activation { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) =>
        Activations.Apply(Activation, Tensor.Conv2d(x, Weight, Bias, Stride, Padding, Dilation, Groups));

    public override string Describe() =>
        $"Conv2d({InChannels} -> {OutChannels}, {ConvLayers.Options(KernelSize, Stride, Dilation, Groups)}{Activations.Name(Activation)})";

    /// <summary>
    /// Whether <see cref="Sequential"/> may run this layer and <paramref name="next"/> as one op: a ReLU convolution
    /// followed by a max pool without padding, dilation or ceil mode, neither with an activity penalty, and no summary
    /// being recorded (it would miss the pool's output).
    /// </summary>
    internal bool FusesWith(Module next) =>
        Activation == Activation.Relu && ActivityRegularizer is null && SummaryRecorder.Current is null
        && next is MaxPool2d { ActivityRegularizer: null, CeilMode: false } pool && pool.Padding == default && pool.Dilation.IsOne;

    /// <summary>
    /// This layer and the max pool after it (see <see cref="FusesWith"/>) as <see cref="Tensor.Conv2dReluMaxPool2d"/>: the
    /// values and gradients of the two calls, without the ReLU's output or its gradient written. The profile charges the
    /// pair to this layer.
    /// </summary>
    internal Tensor CallWithMaxPool(Tensor x, MaxPool2d pool)
    {
        long start = OpProfiler.Enabled ? OpProfiler.Begin() : 0;
        BeginCall();
        try
        {
            var y = Tensor.Conv2dReluMaxPool2d(x, Weight, Bias, pool.Kernel, pool.Stride, Stride, Padding, Dilation, Groups);
            if (OpProfiler.Enabled) OpProfiler.End(start, "forward", this, this, static m => ((Module)m).Describe() + " + MaxPool2d", x.Shape);
            return y;
        }
        finally { EndCall(); }
    }
}

/// <summary>
/// Transposed 2-D convolution layer, weight Cin x (Cout / groups) x R x S (PyTorch's layout), with PyTorch's options
/// (per-axis kernel size, stride, padding and output padding, dilation, groups).
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2 stride = default, Padding padding = default,
        Activation activation = Activation.None, bool bias = true, InitStyle init = InitStyle.Keras, Generator? generator = null,
        float leakySlope = 0.3f, Padding outputPadding = default, int groups = 1, Size2 dilation = default)
    {
        ConvLayers.Check("ConvTranspose2d", inChannels, outChannels, kernelSize, stride, dilation, groups);
        if (padding.Same || outputPadding.Same) throw new ArgumentException("ConvTranspose2d: \"same\" padding is not defined for a transposed convolution.");
        if (padding.H < 0 || padding.W < 0) throw new ArgumentException($"ConvTranspose2d: padding must not be negative, got {padding}.");
        if (outputPadding.H < 0 || outputPadding.W < 0 || outputPadding.H >= Math.Max(stride.H, dilation.H) || outputPadding.W >= Math.Max(stride.W, dilation.W))
            throw new ArgumentException($"ConvTranspose2d: output padding {outputPadding.H}x{outputPadding.W} must be at least 0 and smaller than " +
                $"the stride ({stride.H}x{stride.W}) or the dilation ({dilation.H}x{dilation.W}) on each axis.");
        (InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Dilation, Groups, Activation, LeakySlope) =
            (inChannels, outChannels, kernelSize, stride, padding, outputPadding, dilation, groups, activation, leakySlope);
        int receptive = kernelSize.H * kernelSize.W;
        // PyTorch computes the fan-in of a transposed conv from dim 1 of its weight (out channels / groups).
        var (w, b) = Init.WeightAndBias(init, generator, [inChannels, outChannels / groups, kernelSize.H, kernelSize.W], outChannels,
            outChannels / groups * receptive, inChannels * receptive);
        Weight = RegisterParameter("weight", w);
        if (bias) Bias = RegisterParameter("bias", b);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Padding Padding { get; }
    public Padding OutputPadding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }
    public Activation Activation { get; }
    public float LeakySlope { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) =>
        Activations.Apply(Activation, Tensor.ConvTranspose2d(x, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation), LeakySlope);

    public override string Describe() =>
        $"ConvTranspose2d({InChannels} -> {OutChannels}, {ConvLayers.Options(KernelSize, Stride, Dilation, Groups)}{Activations.Name(Activation)})";
}

/// <summary>What the two convolution layers check and print alike.</summary>
internal static class ConvLayers
{
    public static void Check(string layer, int inChannels, int outChannels, Size2 kernelSize, Size2 stride, Size2 dilation, int groups)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize.H < 1 || kernelSize.W < 1 || stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || groups < 1)
            throw new ArgumentException($"{layer}: channels, kernel size, stride, dilation and groups must be positive (got {inChannels} -> {outChannels}, " +
                $"kernel {kernelSize.H}x{kernelSize.W}, stride {stride.H}x{stride.W}, dilation {dilation.H}x{dilation.W}, groups {groups}).");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{layer}: in channels {inChannels} and out channels {outChannels} must both be divisible by groups {groups}.");
    }

    /// <summary>"3x3", then stride, dilation and groups where they are not 1.</summary>
    public static string Options(Size2 kernelSize, Size2 stride, Size2 dilation, int groups) =>
        $"{kernelSize.H}x{kernelSize.W}{(stride.IsOne ? "" : $", stride {stride}")}{(dilation.IsOne ? "" : $", dilation {dilation}")}{(groups == 1 ? "" : $", groups {groups}")}";
}
