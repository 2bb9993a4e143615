using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Lab.Core.Autodiff;

namespace Lab.Core.Nn;

/// <summary>
/// A layer with several input tensors: merge layers (Add, Concatenate, Dot ...) and attention layers. A functional
/// <see cref="Model"/> hands it the tensors in the order the layer was called with.
/// </summary>
public interface IMultiInputLayer
{
    Tensor Forward(IReadOnlyList<Tensor> inputs);
}

/// <summary>
/// A layer that states its output shape for given input shapes (Keras's compute_output_shape), so that building a
/// functional model checks it without running the layer. Shapes hold the batch axis first, null where unknown; throw an
/// <see cref="ArgumentException"/> saying what does not fit (the caller adds the layer's name), or return null to have the
/// shape found by running the layer.
/// </summary>
public interface IComputeOutputShape
{
    int?[]? ComputeOutputShape(IReadOnlyList<int?[]> inputShapes);
}

/// <summary>
/// Keras's functional API: <see cref="Input"/> makes a symbolic input, calling any layer on symbolic tensors records the
/// call and infers its output shape, and <see cref="Model"/> collects the graph between inputs and outputs.
/// </summary>
/// <example><code>
/// using static Lab.Core.Nn.Functional;
/// var a = Input([20], name: "a");
/// var y = new Linear(8, 1) { Name = "y" }.Call(new Linear(20, 8, Activation.Relu).Call(a));
/// var model = new Model(a, y);
/// </code></example>
public static class Functional
{
    /// <summary>A model input (Keras's Input): the shape of one sample, null where a length varies (Keras's None).</summary>
    public static SymbolicTensor Input(int?[] shape, string? name = null, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d is < 0) throw new ArgumentException($"Input: negative length in shape {SymbolicShape.Format(shape)}.");
        var node = new LayerNode(null, name ?? UniqueName("input"), 0, []);
        var t = new SymbolicTensor(node, 0, [batchSize, .. shape]);
        node.Outputs = [t];
        return t;
    }

    /// <summary>Calls a one-input layer on a symbolic tensor: records the call and returns its output.</summary>
    public static SymbolicTensor Call(this Module layer, SymbolicTensor input) => Single(layer, [input]);

    /// <summary>Calls a layer on several symbolic tensors (a merge or attention layer, or a model with several inputs).</summary>
    public static SymbolicTensor Call(this Module layer, params SymbolicTensor[] inputs) => Single(layer, inputs);

    /// <summary>Calls a layer and returns every output (a nested model with several outputs).</summary>
    public static IReadOnlyList<SymbolicTensor> CallOutputs(this Module layer, params SymbolicTensor[] inputs) => Connect(layer, inputs).Outputs;

    private static SymbolicTensor Single(Module layer, SymbolicTensor[] inputs)
    {
        var node = Connect(layer, inputs);
        return node.Outputs.Count == 1 ? node.Outputs[0]
            : throw new ArgumentException($"{Who(layer)} has {node.Outputs.Count} outputs; use CallOutputs to get them all.");
    }

    private static LayerNode Connect(Module layer, SymbolicTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(inputs);
        layer.Name ??= UniqueName(BaseName(layer));
        if (inputs.Length == 0) throw new ArgumentException($"{Who(layer)}: called on no inputs.");
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"{Who(layer)}: input {i} is null.");
        if (layer is Model inner)
        {
            if (inputs.Length != inner.Inputs.Count)
                throw new ArgumentException($"{Who(layer)}: takes {inner.Inputs.Count} inputs, got {inputs.Length}.");
        }
        else if (layer is not IMultiInputLayer && inputs.Length != 1)
            throw new ArgumentException($"{Who(layer)}: takes one input, got {inputs.Length}; merge layers such as Concatenate take several.");

        var shapes = Array.ConvertAll(inputs, t => t.ShapeRef);
        int?[][] outShapes;
        try
        {
            outShapes = layer switch
            {
                IComputeOutputShape rule when rule.ComputeOutputShape(shapes) is { } stated => [stated],
                Model model => model.ComputeOutputShapes(shapes),
                _ => KnownShapes.TryCompute(layer, shapes[0]) is { } known ? [known] : InferByRunning(layer, shapes),
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"{Who(layer)}: {e.Message}", e);
        }
        var node = new LayerNode(layer, layer.Name, NextCallIndex(layer), inputs);
        var outputs = new SymbolicTensor[outShapes.Length];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = new SymbolicTensor(node, i, outShapes[i]);
        node.Outputs = outputs;
        return node;
    }

    /// <summary>"Linear 'dense_2'": how errors name a layer.</summary>
    internal static string Who(Module layer) => $"{layer.GetType().Name} '{layer.Name}'";

    /// <summary>
    /// Output shapes found by running the layer in eval mode on zeros, twice with different stand-ins for the unknown
    /// lengths (batch 2 then 3, other unknowns 3 then 4): a length that changes with them is unknown in the output too.
    /// </summary>
    private static int?[][] InferByRunning(Module layer, int?[][] shapes)
    {
        var first = RunOnZeros(layer, shapes, 2, 3);
        var second = RunOnZeros(layer, shapes, 3, 4);
        var result = new int?[first.Length][];
        for (int i = 0; i < first.Length; i++)
        {
            result[i] = new int?[first[i].Length];
            for (int d = 0; d < first[i].Length; d++)
                result[i][d] = d < second[i].Length && first[i][d] == second[i][d] ? first[i][d] : null;
        }
        return result;
    }

    private static int[][] RunOnZeros(Module layer, int?[][] shapes, int batch, int unknown)
    {
        var device = layer.Device;
        var xs = new Tensor[shapes.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            var concrete = new int[shapes[i].Length];
            for (int d = 0; d < concrete.Length; d++) concrete[d] = shapes[i][d] ?? (d == 0 ? batch : unknown);
            xs[i] = Tensor.Zeros(concrete, device);
        }
        bool wasTraining = layer.Training;
        layer.Eval();   // no dropout draws, no running-statistics updates
        try
        {
            using var _ = new NoGrad();
            return layer switch
            {
                IMultiInputLayer multi => [multi.Forward(xs).ShapeArray()],
                _ => [layer.Call(xs[0]).ShapeArray()],
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"cannot take input shape {string.Join(" and ", shapes.Select(SymbolicShape.Format))}: {e.Message}", e);
        }
        finally { layer.Train(wasTraining); }
    }

    private static readonly ConcurrentDictionary<string, int> NameCounts = new();
    private static readonly ConditionalWeakTable<Module, StrongBox<int>> CallCounts = new();

    private static int NextCallIndex(Module layer)
    {
        var box = CallCounts.GetValue(layer, _ => new StrongBox<int>());
        return Interlocked.Increment(ref box.Value) - 1;
    }

    /// <summary>Keras's automatic names: "linear", then "linear_1", "linear_2" ... for the process.</summary>
    internal static string UniqueName(string baseName)
    {
        int n = NameCounts.AddOrUpdate(baseName, 0, (_, c) => c + 1);
        return n == 0 ? baseName : $"{baseName}_{n}";
    }

    /// <summary>The type name in snake case without a "Layer" suffix, as Keras names layers: Conv2d → conv2d, ActivationLayer → activation.</summary>
    private static string BaseName(Module layer)
    {
        var type = layer.GetType().Name;
        if (type.EndsWith("Layer", StringComparison.Ordinal) && type.Length > 5) type = type[..^5];
        var sb = new StringBuilder();
        for (int i = 0; i < type.Length; i++)
        {
            char c = type[i];
            if (char.IsUpper(c) && i > 0 && char.IsLower(type[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>Output shapes of the core's own layers, so that their errors at build time name the shapes in Keras's terms.</summary>
internal static class KnownShapes
{
    public static int?[]? TryCompute(Module layer, int?[] x) => layer switch
    {
        Linear l => x.Length >= 2 && x[^1] == l.InFeatures ? [.. x[..^1], l.OutFeatures]
            : throw new ArgumentException($"input shape {SymbolicShape.Format(x)} does not match the layer's {SymbolicShape.Format([.. x[..^1], l.InFeatures])}."),
        Flatten => x.Length >= 2 ? [x[0], Product(x.AsSpan(1))] : throw new ArgumentException($"needs a batch axis and more, got {SymbolicShape.Format(x)}."),
        Reshape r => Reshaped(x, r.TargetShape),
        _ => null,
    };

    internal static int? Product(ReadOnlySpan<int?> dims)
    {
        int p = 1;
        foreach (var d in dims) { if (d is null) return null; p *= d.Value; }
        return p;
    }

    /// <summary>Keras's Reshape: the target excludes the batch axis; one -1 takes what is left.</summary>
    internal static int?[] Reshaped(int?[] x, int[] target)
    {
        var result = new int?[target.Length + 1];
        result[0] = x[0];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"only one length of the target ({string.Join(", ", target)}) may be -1.");
                infer = i;
            }
            else if (target[i] < 0) throw new ArgumentException($"invalid length {target[i]} in the target ({string.Join(", ", target)}).");
            else known *= target[i];
            result[i + 1] = target[i];
        }
        int? total = Product(x.AsSpan(1));
        if (total is null) { if (infer >= 0) result[infer + 1] = null; return result; }
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0)
                throw new ArgumentException($"cannot reshape {SymbolicShape.Format(x)} ({total} values per sample) into (None, {string.Join(", ", target)}).");
            result[infer + 1] = (int)(total / known);
        }
        else if (known != total)
            throw new ArgumentException($"cannot reshape {SymbolicShape.Format(x)} ({total} values per sample) into {SymbolicShape.Format(result)} ({known}).");
        return result;
    }
}
