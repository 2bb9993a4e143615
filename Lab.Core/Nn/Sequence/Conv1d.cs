namespace Lab.Core.Nn;

/// <summary>Keras's Conv1D padding: none, zeros to keep ceil(T / stride) steps, or zeros on the left only (no step sees a later one).</summary>
public enum Padding1d { Valid, Same, Causal }

/// <summary>
/// Keras's Conv1D on channels-last sequences [B, T, C] to [B, T', filters]: kernel size, strides, padding valid, same
/// (Keras's split: the odd step of padding goes to the right) or causal (all on the left), dilation and an optional
/// activation. The weight is [filters, C, kernelSize] (PyTorch's Conv1d layout), glorot-uniform; the bias starts at
/// zero. It runs as the 2-D convolution over a height of 1, after explicit zero padding.
/// </summary>
public sealed class Conv1d : Module, IMaskedLayer
{
    public Conv1d(int inChannels, int filters, int kernelSize, int strides = 1, Padding1d padding = Padding1d.Valid, int dilation = 1,
        Activation activation = Activation.None, bool useBias = true, Generator? generator = null)
    {
        if (inChannels < 1 || filters < 1 || kernelSize < 1 || strides < 1 || dilation < 1)
            throw new ArgumentException($"Conv1D: channels, filters, kernel size, strides and dilation must be positive (got {inChannels} -> {filters}, " +
                $"kernel {kernelSize}, strides {strides}, dilation {dilation}).");
        if (strides > 1 && dilation > 1) throw new ArgumentException($"Conv1D: strides {strides} with dilation {dilation}: Keras allows only one of them above 1.");
        (InChannels, Filters, KernelSize, Strides, Padding, Dilation, Activation) = (inChannels, filters, kernelSize, strides, padding, dilation, activation);
        Weight = RegisterParameter("weight", Init.GlorotUniform(generator ?? Init.Default, [filters, inChannels, kernelSize], inChannels * kernelSize, filters * kernelSize));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Zeros(filters));
    }

    public int InChannels { get; }
    public int Filters { get; }
    public int KernelSize { get; }
    public int Strides { get; }
    public Padding1d Padding { get; }
    public int Dilation { get; }
    public Activation Activation { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>The zero steps added before and after a sequence of <paramref name="steps"/>.</summary>
    public (int Left, int Right) PaddingFor(int steps)
    {
        int extent = Dilation * (KernelSize - 1) + 1;
        switch (Padding)
        {
            case Padding1d.Causal: return (extent - 1, 0);
            case Padding1d.Same:
                int outSteps = (steps + Strides - 1) / Strides;
                int total = Math.Max((outSteps - 1) * Strides + extent - steps, 0);
                return (total / 2, total - total / 2);
            default: return (0, 0);
        }
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 3 || x.Shape[2] != InChannels)
            throw new ArgumentException($"{Describe()}: expected input [batch, steps, {InChannels}], got {ShapeUtil.Format(x.Shape)}.");
        var (left, right) = PaddingFor(x.Shape[1]);
        int extent = Dilation * (KernelSize - 1) + 1;
        if (x.Shape[1] + left + right < extent)
            throw new ArgumentException($"{Describe()}: the input's {x.Shape[1]} steps are fewer than the kernel's extent {extent}.");
        var planes = x.Permute(0, 2, 1);                                  // [B, C, T]
        if (left > 0 || right > 0)
        {
            int b = x.Shape[0], c = x.Shape[2];
            planes = Tensor.Concat([Tensor.Zeros([b, c, left], x.Device), planes, Tensor.Zeros([b, c, right], x.Device)], 2);
        }
        var y = Tensor.Conv2d(planes.Unsqueeze(2), Weight.Unsqueeze(2), Bias, (1, Strides), Lab.Core.Padding.Valid, (1, Dilation));
        return Activations.Apply(Activation, y.Squeeze(2).Permute(0, 2, 1));
    }

    /// <summary>Keras's Conv1D does not carry a mask on.</summary>
    public Tensor Forward(Tensor x, Tensor? mask) => Forward(x);
    public Tensor? ComputeMask(Tensor x, Tensor? mask) => null;

    public override string Describe() => $"Conv1D({InChannels} -> {Filters}, kernel {KernelSize}" +
        (Strides > 1 ? $", strides {Strides}" : "") + (Dilation > 1 ? $", dilation {Dilation}" : "") +
        $", {Padding.ToString().ToLowerInvariant()}{Activations.Name(Activation)})";
}

/// <summary>
/// Keras's GlobalAveragePooling1D: [B, T, C] to [B, C], the mean over the kept steps when a mask comes with the input
/// (a sample with no kept step gives 0/0: Keras's NaN).
/// </summary>
public sealed class GlobalAveragePooling1d : Module, IMaskedLayer
{
    public override Tensor Forward(Tensor x) => Forward(x, null);

    public Tensor Forward(Tensor x, Tensor? mask)
    {
        if (x.Rank != 3) throw new ArgumentException($"GlobalAveragePooling1D: expected input [batch, steps, channels], got {ShapeUtil.Format(x.Shape)}.");
        if (mask is null) return x.Mean(1);
        Masks.Check("GlobalAveragePooling1D", x, mask);
        var m = mask.Unsqueeze(2);
        return (x * m).Sum(1) / m.Sum(1);
    }

    public Tensor? ComputeMask(Tensor x, Tensor? mask) => null;
    public override string Describe() => "GlobalAveragePooling1D";
}

/// <summary>
/// Keras's GlobalMaxPooling1D: [B, T, C] to [B, C], the maximum over time. With a mask, masked steps are left out
/// (they count as -∞; Keras 3's rule).
/// </summary>
public sealed class GlobalMaxPooling1d : Module, IMaskedLayer
{
    public override Tensor Forward(Tensor x) => Forward(x, null);

    public Tensor Forward(Tensor x, Tensor? mask)
    {
        if (x.Rank != 3) throw new ArgumentException($"GlobalMaxPooling1D: expected input [batch, steps, channels], got {ShapeUtil.Format(x.Shape)}.");
        if (mask is null) return x.Max(1);
        Masks.Check("GlobalMaxPooling1D", x, mask);
        return Tensor.Where(mask.Unsqueeze(2), x, Tensor.Scalar(float.NegativeInfinity, x.Device)).Max(1);
    }

    public Tensor? ComputeMask(Tensor x, Tensor? mask) => null;
    public override string Describe() => "GlobalMaxPooling1D";
}

/// <summary>
/// Keras's TimeDistributed: the inner layer on every time step, [B, T, ...] as [B·T, ...] in one call, then back to
/// [B, T, ...out]. The mask passes through.
/// </summary>
public sealed class TimeDistributed : Module, IMaskedLayer
{
    public TimeDistributed(Module layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = RegisterModule("layer", layer);
    }

    public Module Layer { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 3) throw new ArgumentException($"TimeDistributed({Layer.Describe()}): expected input [batch, steps, ...], got {ShapeUtil.Format(x.Shape)}.");
        int b = x.Shape[0], t = x.Shape[1];
        Span<int> merged = stackalloc int[x.Rank - 1];
        merged[0] = b * t;
        x.Shape[2..].CopyTo(merged[1..]);
        var y = Layer.Call(x.Reshape(merged));
        Span<int> split = stackalloc int[y.Rank + 1];
        (split[0], split[1]) = (b, t);
        y.Shape[1..].CopyTo(split[2..]);
        return y.Reshape(split);
    }

    public Tensor Forward(Tensor x, Tensor? mask) => Forward(x);
    public Tensor? ComputeMask(Tensor x, Tensor? mask) => mask;
    public override string Describe() => $"TimeDistributed({Layer.Describe()})";
}
