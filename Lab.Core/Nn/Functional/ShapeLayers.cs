namespace Lab.Core.Nn;

/// <summary>Keras's Activation layer: an activation on its own (softmax over the last axis, as Keras).</summary>
public sealed class ActivationLayer(Activation activation, float leakySlope = 0.3f) : Module, IComputeOutputShape
{
    public Activation Activation { get; } = activation;

    public override Tensor Forward(Tensor x) =>
        Activation == Activation.Softmax ? x.Softmax(-1) : Activations.Apply(Activation, x, leakySlope);

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes) => shapes[0];
    public override string Describe() => $"Activation({Activation.ToString().ToLowerInvariant()})";
}

/// <summary>
/// Keras's Permute: reorders the axes of each sample. Dims are 1-based and leave out the batch axis, as Keras:
/// Permute(2, 1) turns (B, 10, 64) into (B, 64, 10).
/// </summary>
public sealed class Permute : Module, IComputeOutputShape
{
    private readonly int[] _perm;   // with the batch axis: [0, dims...]

    public Permute(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var sorted = dims.Order().ToArray();
        if (dims.Length == 0 || !sorted.SequenceEqual(Enumerable.Range(1, dims.Length)))
            throw new ArgumentException($"Permute: dims must be a reordering of 1..{dims.Length} (1-based, batch axis excluded), got ({string.Join(", ", dims)}).");
        Dims = dims;
        _perm = [0, .. dims];
    }

    public IReadOnlyList<int> Dims { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != _perm.Length)
            throw new ArgumentException($"Permute({string.Join(", ", Dims)}): expected a batch of rank {_perm.Length}, got {ShapeUtil.Format(x.Shape)}.");
        return x.Permute(_perm);
    }

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes)
    {
        var x = shapes[0];
        if (x.Length != _perm.Length)
            throw new ArgumentException($"input shape {SymbolicShape.Format(x)} has {x.Length - 1} axes per sample, dims ({string.Join(", ", Dims)}) reorder {Dims.Count}.");
        return Array.ConvertAll(_perm, p => x[p]);
    }

    public override string Describe() => $"Permute({string.Join(", ", Dims)})";
}

/// <summary>Keras's RepeatVector: (B, F) becomes (B, n, F), the vector repeated n times.</summary>
public sealed class RepeatVector : Module, IComputeOutputShape
{
    public RepeatVector(int n)
    {
        if (n < 1) throw new ArgumentException($"RepeatVector: the count must be positive, got {n}.");
        N = n;
    }

    public int N { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2) throw new ArgumentException($"RepeatVector({N}): expected (batch, features), got {ShapeUtil.Format(x.Shape)}.");
        return x.Unsqueeze(1).Expand(x.Shape[0], N, x.Shape[1]);
    }

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes) => shapes[0].Length == 2
        ? [shapes[0][0], N, shapes[0][1]]
        : throw new ArgumentException($"expects (batch, features), got {SymbolicShape.Format(shapes[0])}.");

    public override string Describe() => $"RepeatVector({N})";
}

/// <summary>
/// Keras's Lambda: any tensor function as a layer, of one input or of several. The output shape is the given function's
/// (shapes with the batch axis first, null where unknown), or found by running the function once on zeros.
/// </summary>
public sealed class Lambda : Module, IMultiInputLayer, IComputeOutputShape
{
    private readonly Func<IReadOnlyList<Tensor>, Tensor> _function;
    private readonly Func<IReadOnlyList<int?[]>, int?[]>? _outputShape;
    private readonly int _arity;   // 1 for a one-input function, 0 for any number

    public Lambda(Func<Tensor, Tensor> function, Func<int?[], int?[]>? outputShape = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        _function = xs => function(xs[0]);
        _outputShape = outputShape is null ? null : shapes => outputShape(shapes[0]);
        _arity = 1;
    }

    public Lambda(Func<IReadOnlyList<Tensor>, Tensor> function, Func<IReadOnlyList<int?[]>, int?[]>? outputShape = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        (_function, _outputShape) = (function, outputShape);
    }

    public override Tensor Forward(Tensor x) => _function([x]);

    public Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (_arity == 1 && inputs.Count != 1) throw new ArgumentException($"Lambda '{Name}': its function takes one tensor, got {inputs.Count}.");
        return _function(inputs);
    }

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes)
    {
        if (_arity == 1 && shapes.Count != 1) throw new ArgumentException($"its function takes one tensor, got {shapes.Count}.");
        return _outputShape?.Invoke(shapes);
    }
}
