using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Sum over all elements, a rank-0 tensor.</summary>
    public Tensor Sum()
    {
        Span<int> all = stackalloc int[Rank];
        for (int i = 0; i < all.Length; i++) all[i] = i;
        return SumNode.Apply(this, all, keepDim: false);
    }

    public Tensor Sum(int axis, bool keepDim = false) => SumNode.Apply(this, [axis], keepDim);
    public Tensor Sum(ReadOnlySpan<int> axes, bool keepDim = false) => SumNode.Apply(this, axes, keepDim);

    /// <summary>The mean of all elements; NaN for an empty tensor (as PyTorch: 0 / 0).</summary>
    public Tensor Mean() => Sum() * (1f / Numel);
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);
    public Tensor Mean(ReadOnlySpan<int> axes, bool keepDim = false)
    {
        long count = 1;
        foreach (var a in axes) count *= Shape[ShapeUtil.Axis("Mean", a, Rank)];
        return Sum(axes, keepDim) * (1f / count);   // NaN over an axis of size 0, as PyTorch
    }

    /// <summary>
    /// Maximum along an axis (NaN when the row holds one). The gradient is shared equally among tied maxima, and
    /// among the NaNs of a row whose maximum is NaN: PyTorch's rule for max() over all elements (evenly_distribute_backward)
    /// and torch.amax's for ties; torch.max(dim) gives all of it to one index, which agrees when there is one.
    /// </summary>
    public Tensor Max(int axis, bool keepDim = false) => MaxNode.Apply(this, axis, keepDim, ReduceOp.Max);
    public Tensor Min(int axis, bool keepDim = false) => MaxNode.Apply(this, axis, keepDim, ReduceOp.Min);
    public Tensor Max() => Reshape(Numel).Max(0);
    public Tensor Min() => Reshape(Numel).Min(0);

    /// <summary>Index of the first maximum along an axis, as integral floats.</summary>
    public Tensor ArgMax(int axis, bool keepDim = false) => ReduceAxis(ReduceOp.ArgMax, "ArgMax", axis, keepDim);
    public Tensor ArgMin(int axis, bool keepDim = false) => ReduceAxis(ReduceOp.ArgMin, "ArgMin", axis, keepDim);

    /// <summary>Broadcasts this tensor to a larger shape (a copy; the gradient sums back).</summary>
    public Tensor Expand(params ReadOnlySpan<int> shape) => ExpandNode.Apply(this, shape);

    internal Tensor ReduceAxis(ReduceOp op, string name, int axis, bool keepDim)
    {
        int ax = ShapeUtil.Axis(name, axis, Rank);
        if (Shape[ax] == 0) throw new ArgumentException($"{name}: cannot reduce over axis {axis} of size 0 in shape {ShapeUtil.Format(Shape)}.");
        var (outer, n, inner) = ShapeUtil.Split(Shape, ax);
        Span<int> shape = stackalloc int[Rank];
        var y = Empty(ReducedShape(_shape, ax, keepDim, shape), Device);
        Backend.Reduce(op, this, outer, n, inner, y);
        return y;
    }

    /// <summary>The shape after reducing one axis, written into <paramref name="result"/> (rank long); returns the used part.</summary>
    internal static Span<int> ReducedShape(ReadOnlySpan<int> shape, int axis, bool keepDim, Span<int> result)
    {
        if (keepDim) { shape.CopyTo(result); result[axis] = 1; return result[..shape.Length]; }
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != axis) result[j++] = shape[i];
        return result[..(shape.Length - 1)];
    }
}

internal sealed class SumNode : PooledNode<SumNode>
{
    // The input's shape with reduced axes set to 1; capacity grows to the largest rank seen, _rank says how much is used.
    private int[] _keepShape = [];
    private int _rank;

    public SumNode() { }

    public static Tensor Apply(Tensor x, ReadOnlySpan<int> axes, bool keepDim)
    {
        Span<bool> reduce = stackalloc bool[x.Rank];
        foreach (var a in axes)
        {
            int ax = ShapeUtil.Axis("Sum", a, x.Rank);
            if (reduce[ax]) throw new ArgumentException($"Sum: axis {a} given twice for shape {ShapeUtil.Format(x.Shape)}.");
            reduce[ax] = true;
        }
        Span<int> keepShape = stackalloc int[x.Rank];
        x.Shape.CopyTo(keepShape);
        for (int i = 0; i < keepShape.Length; i++) if (reduce[i]) keepShape[i] = 1;

        // Runs of adjacent reduced axes are one [outer, n, inner] reduction each.
        Tensor current = x;
        Span<int> shape = stackalloc int[x.Rank];
        x.Shape.CopyTo(shape);
        for (int i = shape.Length - 1; i >= 0;)
        {
            if (!reduce[i]) { i--; continue; }
            int end = i;
            while (i >= 0 && reduce[i]) i--;
            int start = i + 1;
            int outer = 1, n = 1, inner = 1;
            for (int k = 0; k < start; k++) outer *= shape[k];
            for (int k = start; k <= end; k++) { n *= shape[k]; shape[k] = 1; }
            for (int k = end + 1; k < shape.Length; k++) inner *= shape[k];
            // A sum over nothing is 0 (the backends reduce from a first element).
            var y = Tensor.Empty(shape, x.Device, zero: n == 0);
            if (n > 0) x.Backend.Reduce(ReduceOp.Sum, current, outer, n, inner, y);
            current = y;
        }
        if (ReferenceEquals(current, x)) { current = Tensor.Empty(shape, x.Device); x.Backend.Copy(x, current); }
        Tensor result;
        if (keepDim) result = current;
        else
        {
            Span<int> kept = stackalloc int[x.Rank];
            int n = 0;
            for (int i = 0; i < keepShape.Length; i++) if (!reduce[i]) kept[n++] = keepShape[i];
            result = current.ReshapeView(kept[..n]);
        }
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<SumNode>.Rent();
            if (node._keepShape.Length < keepShape.Length) node._keepShape = new int[keepShape.Length];
            keepShape.CopyTo(node._keepShape);
            node._rank = keepShape.Length;
            node.SetInputs(x);
            result.Record(node);
        }
        return result;
    }

    public override Tensor?[] Backward(Tensor g) => Grads(g.Reshape(_keepShape.AsSpan(0, _rank)).Expand(Inputs[0].Shape));
}

internal sealed class MaxNode : PooledNode<MaxNode>
{
    private int _axis;
    private Tensor _valuesKeep = null!;

    public MaxNode() { }

    private protected override void ClearSaved() => _valuesKeep = null!;

    public static Tensor Apply(Tensor x, int axis, bool keepDim, ReduceOp op)
    {
        string name = OpNames.Of(op);
        int ax = ShapeUtil.Axis(name, axis, x.Rank);
        var keep = x.ReduceAxis(op, name, ax, keepDim: true);
        Span<int> shape = stackalloc int[x.Rank];
        var result = keepDim ? keep : keep.ReshapeView(Tensor.ReducedShape(x.Shape, ax, false, shape));
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<MaxNode>.Rent();
            (node._axis, node._valuesKeep) = (ax, keep.Detach());
            node.SetInputs(x);
            result.Record(node);
        }
        return result;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        // NaN equals nothing, so a NaN maximum is matched by the NaNs themselves.
        var mask = x.Eq(_valuesKeep) + x.Ne(x) * _valuesKeep.Ne(_valuesKeep);
        var gk = g.Reshape(_valuesKeep.Shape);
        return Grads(gk * mask / mask.Sum(_axis, keepDim: true));
    }
}

internal sealed class ExpandNode : PooledNode<ExpandNode>
{
    public ExpandNode() { }

    public static Tensor Apply(Tensor x, ReadOnlySpan<int> shape)
    {
        Span<int> target = stackalloc int[Math.Max(x.Rank, shape.Length)];
        ShapeUtil.Broadcast("Expand", x.Shape, shape, target);
        if (!target.SequenceEqual(shape))
            throw new ArgumentException($"Expand: shape {ShapeUtil.Format(x.Shape)} cannot be expanded to {ShapeUtil.Format(shape)}.");
        if (x.Shape.SequenceEqual(shape)) return x;
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.Binary(BinaryOp.Add, x, ZeroOf(x.Device), y);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<ExpandNode>.Rent();
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    [ThreadStatic] private static Tensor? _cpuZero;

    private static Tensor ZeroOf(Device d) => d == Device.Cpu ? _cpuZero ??= new Tensor(new CpuStorage(1), 0, []) : Tensor.Scalar(0f, d);  // not pooled: it outlives any TensorScope

    // The engine's SumToShape turns the broadcast gradient back into the input's shape.
    public override Tensor?[] Backward(Tensor g) => Grads(g);
}
