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

public sealed class MaxPool2d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => x.MaxPool2d(kernel, stride, padding);
    public override string Describe() => $"MaxPool2d({kernel})";
}

public sealed class AvgPool2d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => x.AvgPool2d(kernel, stride, padding);
    public override string Describe() => $"AvgPool2d({kernel})";
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

    public override Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Call(x);
        return x;
    }
}
