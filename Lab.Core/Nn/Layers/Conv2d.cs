namespace Lab.Core.Nn;

/// <summary>2-D convolution layer, weight K x C x R x S, with Keras's optional activation.</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default,
        Activation activation = Activation.None, bool bias = true, InitStyle init = InitStyle.Keras, Generator? generator = null)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1 || stride < 1)
            throw new ArgumentException($"Conv2d: channels, kernel size and stride must be positive (got {inChannels} -> {outChannels}, k={kernelSize}, s={stride}).");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Activation) = (inChannels, outChannels, kernelSize, stride, padding, activation);
        int receptive = kernelSize * kernelSize;
        var (w, b) = Init.WeightAndBias(init, generator, [outChannels, inChannels, kernelSize, kernelSize], outChannels,
            inChannels * receptive, outChannels * receptive);
        Weight = RegisterParameter("weight", w);
        if (bias) Bias = RegisterParameter("bias", b);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public Padding Padding { get; }
    public Activation Activation { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) => Activations.Apply(Activation, Tensor.Conv2d(x, Weight, Bias, Stride, Padding));

    public override string Describe() => $"Conv2d({InChannels} -> {OutChannels}, {KernelSize}x{KernelSize}{(Stride > 1 ? $", stride {Stride}" : "")}{Activations.Name(Activation)})";
}

/// <summary>Transposed 2-D convolution layer, weight Cin x Cout x R x S (PyTorch's layout).</summary>
public sealed class ConvTranspose2d : Module
{
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        Activation activation = Activation.None, bool bias = true, InitStyle init = InitStyle.Keras, Generator? generator = null,
        float leakySlope = 0.3f)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1 || stride < 1)
            throw new ArgumentException($"ConvTranspose2d: channels, kernel size and stride must be positive (got {inChannels} -> {outChannels}, k={kernelSize}, s={stride}).");
        (InChannels, OutChannels, KernelSize, Stride, PaddingSize, Activation, LeakySlope) = (inChannels, outChannels, kernelSize, stride, padding, activation, leakySlope);
        int receptive = kernelSize * kernelSize;
        // PyTorch computes the fan-in of a transposed conv from dim 1 of its weight (out channels).
        var (w, b) = Init.WeightAndBias(init, generator, [inChannels, outChannels, kernelSize, kernelSize], outChannels,
            outChannels * receptive, inChannels * receptive);
        Weight = RegisterParameter("weight", w);
        if (bias) Bias = RegisterParameter("bias", b);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int PaddingSize { get; }
    public Activation Activation { get; }
    public float LeakySlope { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) =>
        Activations.Apply(Activation, Tensor.ConvTranspose2d(x, Weight, Bias, Stride, PaddingSize), LeakySlope);

    public override string Describe() => $"ConvTranspose2d({InChannels} -> {OutChannels}, {KernelSize}x{KernelSize}{(Stride > 1 ? $", stride {Stride}" : "")}{Activations.Name(Activation)})";
}
