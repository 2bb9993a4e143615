namespace Lab.Core.Nn;

/// <summary>Inverted dropout with its own seeded generator; the identity in eval mode.</summary>
public sealed class Dropout(float p, Generator? generator = null) : Module
{
    private readonly Generator _generator = generator ?? Init.Default.Fork();
    public float P { get; } = p is >= 0 and < 1 ? p : throw new ArgumentException($"Dropout: probability must be in [0, 1), got {p}.");
    public override Tensor Forward(Tensor x) => x.Dropout(P, _generator, Training);
    public override string Describe() => $"Dropout({P})";
}

/// <summary>Keeps the batch axis and flattens the rest (Keras's Flatten).</summary>
public sealed class Flatten : Module
{
    public override Tensor Forward(Tensor x) => x.Flatten(1);
}

/// <summary>Reshapes each sample (the batch axis is kept), like Keras's Reshape((16, 4, 4)).</summary>
public sealed class Reshape(params int[] shape) : Module
{
    public int[] TargetShape { get; } = shape;
    public override Tensor Forward(Tensor x)
    {
        Span<int> shape = stackalloc int[TargetShape.Length + 1];
        shape[0] = x.Shape[0];
        TargetShape.CopyTo(shape[1..]);
        return x.Reshape(shape);
    }
    public override string Describe() => $"Reshape({string.Join(", ", TargetShape)})";
}

/// <summary>Max pooling with PyTorch's options (see <see cref="Tensor.MaxPool2d"/>); stride defaults to the kernel.</summary>
public sealed class MaxPool2d(Size2 kernel, Size2? stride = null, Padding padding = default, Size2 dilation = default, bool ceilMode = false) : Module
{
    public Size2 Kernel { get; } = kernel;
    public Size2 Stride { get; } = stride ?? kernel;
    public Padding Padding { get; } = padding;
    public Size2 Dilation { get; } = dilation;
    public bool CeilMode { get; } = ceilMode;
    public override Tensor Forward(Tensor x) => x.MaxPool2d(Kernel, Stride, Padding, Dilation, CeilMode);
    public override string Describe() => Stride == Kernel && Padding == default && Dilation.IsOne && !CeilMode
        ? $"MaxPool2d({Kernel})"
        : $"MaxPool2d({Kernel}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={CeilMode})";
}

/// <summary>Average pooling with PyTorch's options (see <see cref="Tensor.AvgPool2d"/>); stride defaults to the kernel.</summary>
public sealed class AvgPool2d(Size2 kernel, Size2? stride = null, Padding padding = default, bool ceilMode = false, bool countIncludePad = true) : Module
{
    public Size2 Kernel { get; } = kernel;
    public Size2 Stride { get; } = stride ?? kernel;
    public Padding Padding { get; } = padding;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;
    public override Tensor Forward(Tensor x) => x.AvgPool2d(Kernel, Stride, Padding, CeilMode, CountIncludePad);
    public override string Describe() => Stride == Kernel && Padding == default && !CeilMode && CountIncludePad
        ? $"AvgPool2d({Kernel})"
        : $"AvgPool2d({Kernel}, stride={Stride}, padding={Padding}, ceil_mode={CeilMode}, count_include_pad={CountIncludePad})";
}

public sealed class ReLU : Module { public override Tensor Forward(Tensor x) => x.Relu(); }
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public override Tensor Forward(Tensor x) => x.LeakyRelu(negativeSlope);
    public override string Describe() => $"LeakyReLU({negativeSlope})";
}
public sealed class Sigmoid : Module { public override Tensor Forward(Tensor x) => x.Sigmoid(); }
public sealed class Tanh : Module { public override Tensor Forward(Tensor x) => x.Tanh(); }
public sealed class Softplus : Module { public override Tensor Forward(Tensor x) => x.Softplus(); }
public sealed class Softmax(int axis = -1) : Module { public override Tensor Forward(Tensor x) => x.Softmax(axis); }

/// <summary>Layers applied in order; children are named 0, 1, 2 ... as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public IReadOnlyList<Module> Layers => _layers;
    public Module this[int index] => _layers[index];

    /// <summary>
    /// Runs the layers in order, handing Keras masks on: a masked layer (<see cref="IMaskedLayer"/>) gets the mask
    /// and says what its output carries; any other layer keeps it when its output keeps the input's [B, T] axes
    /// (Dense, Dropout, activations, as in Keras) and ends it otherwise.
    /// </summary>
    public override Tensor Forward(Tensor x)
    {
        Tensor? mask = null;
        for (int i = 0; i < _layers.Count; i++)
        {
            var l = _layers[i];
            // A convolution, ReLU and max pool block runs as one fused op (the same values and gradients).
            if (mask is null && l is Conv2d conv && i + 1 < _layers.Count && conv.FusesWith(_layers[i + 1]))
            {
                x = conv.CallWithMaxPool(x, (MaxPool2d)_layers[++i]);
                continue;
            }
            if (l is IMaskedLayer masked)
            {
                var next = masked.ComputeMask(x, mask);
                x = mask is null ? l.Call(x) : Masks.CallMasked(l, masked, x, mask);
                mask = next;
                continue;
            }
            var y = l.Call(x);
            if (mask is not null && !(y.Rank >= 2 && y.Shape[0] == mask.Shape[0] && y.Shape[1] == mask.Shape[1])) mask = null;
            x = y;
        }
        return x;
    }
}
