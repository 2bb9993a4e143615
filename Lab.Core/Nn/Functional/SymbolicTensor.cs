namespace Lab.Core.Nn;

/// <summary>
/// A tensor of a functional model being built (Keras's KerasTensor): no values, only a shape whose first axis is the
/// batch (null, Keras's None, where a length is unknown), the layer call that produces it and its place among that
/// call's outputs. Calling a layer on symbolic tensors (<see cref="Functional.Call(Module, SymbolicTensor)"/>) records
/// the call and returns new ones; <see cref="Model"/> turns inputs and outputs into a module.
/// </summary>
public sealed class SymbolicTensor
{
    private readonly int?[] _shape;

    internal SymbolicTensor(LayerNode node, int index, int?[] shape)
    {
        Node = node;
        Index = index;
        _shape = shape;
    }

    /// <summary>The shape, batch axis first; null where the length is only known when the model runs.</summary>
    public IReadOnlyList<int?> Shape => _shape;
    public int Rank => _shape.Length;

    /// <summary>The layer call that produces this tensor (for an input, the input's own node).</summary>
    public LayerNode Node { get; }

    /// <summary>Which of the call's outputs this is (Keras's tensor index, the second number of "dense[0][0]").</summary>
    public int Index { get; }

    /// <summary>The producing layer's name, with the output index when the call has several: "dense", "encoder_1".</summary>
    public string Name => Node.Outputs.Count > 1 ? $"{Node.LayerName}_{Index}" : Node.LayerName;

    /// <summary>Keras's reference to this tensor in a summary's "Connected to" column: layer[node][tensor].</summary>
    public string Reference => $"{Node.LayerName}[{Node.CallIndex}][{Index}]";

    internal int?[] ShapeRef => _shape;

    // Keras's operators on symbolic tensors add merge layers to the graph.
    public static SymbolicTensor operator +(SymbolicTensor a, SymbolicTensor b) => new Add().Call(a, b);
    public static SymbolicTensor operator -(SymbolicTensor a, SymbolicTensor b) => new Subtract().Call(a, b);
    public static SymbolicTensor operator *(SymbolicTensor a, SymbolicTensor b) => new Multiply().Call(a, b);

    public override string ToString() => $"<SymbolicTensor shape={SymbolicShape.Format(_shape)}, name={Name}>";
}

/// <summary>
/// One call of a layer on symbolic tensors (Keras's Node), or a model input (no layer). A layer called twice, e.g. a
/// shared encoder, has two nodes and one set of weights.
/// </summary>
public sealed class LayerNode
{
    internal LayerNode(Module? layer, string layerName, int callIndex, SymbolicTensor[] inputs)
    {
        Layer = layer;
        LayerName = layerName;
        CallIndex = callIndex;
        Inputs = inputs;
    }

    /// <summary>The layer called; null for a model input (Keras's InputLayer).</summary>
    public Module? Layer { get; }
    public string LayerName { get; }

    /// <summary>"InputLayer" for an input, else the layer's type name ("Linear", "Concatenate").</summary>
    public string LayerType => Layer?.GetType().Name ?? "InputLayer";

    /// <summary>Which call of its layer this is: 0 for the first, 1 for the second use of a shared layer ...</summary>
    public int CallIndex { get; }

    public IReadOnlyList<SymbolicTensor> Inputs { get; }
    public IReadOnlyList<SymbolicTensor> Outputs { get; internal set; } = [];
    public bool IsInput => Layer is null;
}

/// <summary>Shapes of symbolic tensors: null dimensions are Keras's None.</summary>
public static class SymbolicShape
{
    /// <summary>Keras's notation: "(None, 20)", "(None, 30, 400)", "(None,)".</summary>
    public static string Format(IReadOnlyList<int?> shape) =>
        shape.Count == 1 ? $"({Dim(shape[0])},)" : "(" + string.Join(", ", shape.Select(Dim)) + ")";

    private static string Dim(int? d) => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None";

    /// <summary>Whether a concrete shape fits a symbolic one (same rank, every known length equal).</summary>
    public static bool Fits(IReadOnlyList<int?> symbolic, ReadOnlySpan<int> shape)
    {
        if (symbolic.Count != shape.Length) return false;
        for (int i = 0; i < shape.Length; i++)
            if (symbolic[i] is int d && d != shape[i]) return false;
        return true;
    }
}
