namespace Lab.Core.Nn;

/// <summary>
/// Keras's element-wise merge layers: two or more inputs of one shape (or shapes that broadcast; an input of lower rank
/// gains axes after the batch axis first, as Keras does) combined into one.
/// </summary>
public abstract class ElementwiseMerge : Module, IMultiInputLayer, IComputeOutputShape
{
    private protected virtual int MaxInputs => int.MaxValue;

    public Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        CheckCount(inputs.Count);
        int rank = 0;
        for (int i = 0; i < inputs.Count; i++) rank = Math.Max(rank, inputs[i].Rank);
        var y = Aligned(inputs[0], rank);
        for (int i = 1; i < inputs.Count; i++) y = Combine(y, Aligned(inputs[i], rank));
        return Finish(y, inputs.Count);
    }

    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException($"{GetType().Name} merges several tensors; call Forward(inputs) or use it in a functional Model.");

    /// <summary>Combines the running result with the next input.</summary>
    private protected abstract Tensor Combine(Tensor acc, Tensor x);
    private protected virtual Tensor Finish(Tensor acc, int count) => acc;

    private static Tensor Aligned(Tensor x, int rank)
    {
        while (x.Rank < rank) x = x.Unsqueeze(1);
        return x;
    }

    private void CheckCount(int n)
    {
        if (n < 2 || n > MaxInputs)
            throw new ArgumentException(MaxInputs == 2
                ? $"{GetType().Name}: takes exactly 2 inputs, got {n}."
                : $"{GetType().Name}: takes at least 2 inputs, got {n}.");
    }

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes)
    {
        CheckCount(shapes.Count);
        int rank = shapes.Max(s => s.Length);
        var result = new int?[rank];
        for (int d = 0; d < rank; d++) result[d] = 1;
        foreach (var shape in shapes)
        {
            // Keras inserts the missing axes after the batch axis.
            var s = shape.Length == rank || shape.Length == 0 ? shape : [shape[0], .. Enumerable.Repeat<int?>(1, rank - shape.Length), .. shape[1..]];
            for (int d = 0; d < s.Length; d++)
            {
                int? a = result[d], b = s[d];
                if (a == 1) result[d] = b;
                else if (b == 1 || b == a) continue;
                else if (a is null || b is null) result[d] = a ?? b;   // an unknown length must equal the known one at run time
                else throw new ArgumentException($"inputs of shapes {string.Join(", ", shapes.Select(SymbolicShape.Format))} do not broadcast together (axis {d}: {a} vs {b}).");
            }
        }
        return result;
    }
}

/// <summary>Keras's Add: the sum of its inputs (a residual connection).</summary>
public sealed class Add : ElementwiseMerge
{
    private protected override Tensor Combine(Tensor acc, Tensor x) => acc + x;
}

/// <summary>Keras's Subtract: the first input minus the second (exactly two).</summary>
public sealed class Subtract : ElementwiseMerge
{
    private protected override int MaxInputs => 2;
    private protected override Tensor Combine(Tensor acc, Tensor x) => acc - x;
}

/// <summary>Keras's Multiply: the element-wise product of its inputs.</summary>
public sealed class Multiply : ElementwiseMerge
{
    private protected override Tensor Combine(Tensor acc, Tensor x) => acc * x;
}

/// <summary>Keras's Average: the element-wise mean of its inputs.</summary>
public sealed class Average : ElementwiseMerge
{
    private protected override Tensor Combine(Tensor acc, Tensor x) => acc + x;
    private protected override Tensor Finish(Tensor acc, int count) => acc * (1f / count);
}

/// <summary>Keras's Maximum: the element-wise maximum of its inputs (a tie shares the gradient, as PyTorch).</summary>
public sealed class Maximum : ElementwiseMerge
{
    private protected override Tensor Combine(Tensor acc, Tensor x) => Tensor.Maximum(acc, x);
}

/// <summary>Keras's Minimum: the element-wise minimum of its inputs.</summary>
public sealed class Minimum : ElementwiseMerge
{
    private protected override Tensor Combine(Tensor acc, Tensor x) => Tensor.Minimum(acc, x);
}

/// <summary>Keras's Concatenate: joins its inputs along one axis (counted with the batch axis; -1, the last, by default).</summary>
public sealed class Concatenate(int axis = -1) : Module, IMultiInputLayer, IComputeOutputShape
{
    public int Axis { get; } = axis;

    public Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count < 1) throw new ArgumentException("Concatenate: takes at least one input, got none.");
        return Tensor.Concat(inputs, ShapeUtil.Axis("Concatenate", Axis, inputs[0].Rank));
    }

    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException("Concatenate joins several tensors; call Forward(inputs) or use it in a functional Model.");

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes)
    {
        int rank = shapes[0].Length;
        string all = string.Join(", ", shapes.Select(SymbolicShape.Format));
        if (shapes.Any(s => s.Length != rank)) throw new ArgumentException($"inputs of different ranks cannot be joined: {all}.");
        int ax = ShapeUtil.Axis("Concatenate", Axis, rank);
        if (ax == 0) throw new ArgumentException($"axis {Axis} is the batch axis; Concatenate joins features (axis 1 or later).");
        var result = (int?[])shapes[0].Clone();
        result[ax] = 0;
        foreach (var s in shapes)
        {
            result[ax] = result[ax] is int a && s[ax] is int b ? a + b : null;
            for (int d = 1; d < rank; d++)
                if (d != ax && s[d] is int n && shapes[0][d] is int m && n != m)
                    throw new ArgumentException($"inputs {all} differ on axis {d} ({m} vs {n}); only axis {ax} may differ.");
        }
        return result;
    }

    public override string Describe() => $"Concatenate(axis={Axis})";
}

/// <summary>
/// Keras's Dot: per sample, the dot product of two inputs along one axis of each (axes count the batch axis, so 1 is
/// the first feature axis; one number for both, or a pair). (B, 30, 400)·(B, 20, 400) over axes 2 is (B, 30, 20); two
/// (B, n) vectors give (B, 1). With <see cref="Normalize"/> both are L2-normalised along their axis first: the cosine.
/// Masks stop here, as in Keras (Dot.compute_mask returns None): the inputs' steps become axes of the output that a
/// [B, T] mask cannot describe (the scores of two sequences of different lengths, a context over the source steps).
/// </summary>
public sealed class Dot : Module, IMultiInputModule, IComputeOutputShape
{
    public Dot(int axes, bool normalize = false) : this((axes, axes), normalize) { }

    public Dot((int A, int B) axes, bool normalize = false)
    {
        Axes = axes;
        Normalize = normalize;
    }

    public (int A, int B) Axes { get; }
    public bool Normalize { get; }

    public Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != 2) throw new ArgumentException($"Dot: takes exactly 2 inputs, got {inputs.Count}.");
        Tensor a = inputs[0], b = inputs[1];
        if (Normalize)
        {
            a = a.L2Normalize(Axes.A);
            b = b.L2Normalize(Axes.B);
        }
        return Tensor.BatchDot(a, b, Axes.A, Axes.B);
    }

    /// <summary>The masks are ignored (Keras's Dot).</summary>
    public Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks) => Forward(inputs);

    /// <summary>None: the output carries no mask (Keras's Dot.compute_mask).</summary>
    public Tensor? ComputeMask(IReadOnlyList<Tensor?>? masks) => null;

    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException("Dot multiplies two tensors; call Forward(inputs) or use it in a functional Model.");

    public int?[]? ComputeOutputShape(IReadOnlyList<int?[]> shapes)
    {
        if (shapes.Count != 2) throw new ArgumentException($"takes exactly 2 inputs, got {shapes.Count}.");
        var (x, y) = (shapes[0], shapes[1]);
        string both = $"{SymbolicShape.Format(x)} and {SymbolicShape.Format(y)}";
        if (x.Length < 2 || y.Length < 2) throw new ArgumentException($"inputs {both} need a batch axis and at least one more.");
        int ax = ShapeUtil.Axis("Dot", Axes.A, x.Length), ay = ShapeUtil.Axis("Dot", Axes.B, y.Length);
        if (ax == 0 || ay == 0) throw new ArgumentException($"axes ({Axes.A}, {Axes.B}) include the batch axis, which is never contracted.");
        if (x[ax] is int m && y[ay] is int n && m != n)
            throw new ArgumentException($"inputs {both} differ along the dot axes ({Axes.A}, {Axes.B}): {m} vs {n}.");
        int?[] result = [x[0] ?? y[0], .. x.Where((_, d) => d != 0 && d != ax), .. y.Where((_, d) => d != 0 && d != ay)];
        return result.Length == 1 ? [result[0], 1] : result;
    }

    public override string Describe() => $"Dot(axes=({Axes.A}, {Axes.B}){(Normalize ? ", normalize" : "")})";
}
