using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Sum over all elements, a rank-0 tensor.</summary>
    public Tensor Sum() => SumNode.Apply(this, AllAxes(), keepDim: false);
    public Tensor Sum(int axis, bool keepDim = false) => SumNode.Apply(this, [axis], keepDim);
    public Tensor Sum(int[] axes, bool keepDim = false) => SumNode.Apply(this, axes, keepDim);

    public Tensor Mean() => Sum() * (1f / Math.Max(1, Numel));
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);
    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        long count = 1;
        foreach (var a in axes) count *= Shape[ShapeUtil.Axis("Mean", a, Rank)];
        return Sum(axes, keepDim) * (1f / Math.Max(1, count));
    }

    /// <summary>Maximum along an axis; the gradient is shared equally among tied maxima.</summary>
    public Tensor Max(int axis, bool keepDim = false) => MaxNode.Apply(this, axis, keepDim, ReduceOp.Max);
    public Tensor Min(int axis, bool keepDim = false) => MaxNode.Apply(this, axis, keepDim, ReduceOp.Min);
    public Tensor Max() => Reshape(Numel).Max(0);
    public Tensor Min() => Reshape(Numel).Min(0);

    /// <summary>Index of the first maximum along an axis, as integral floats.</summary>
    public Tensor ArgMax(int axis, bool keepDim = false) => ReduceAxis(ReduceOp.ArgMax, "ArgMax", axis, keepDim);
    public Tensor ArgMin(int axis, bool keepDim = false) => ReduceAxis(ReduceOp.ArgMin, "ArgMin", axis, keepDim);

    /// <summary>Broadcasts this tensor to a larger shape (a copy; the gradient sums back).</summary>
    public Tensor Expand(params int[] shape) => ExpandNode.Apply(this, shape);

    private int[] AllAxes()
    {
        var axes = new int[Rank];
        for (int i = 0; i < Rank; i++) axes[i] = i;
        return axes;
    }

    internal Tensor ReduceAxis(ReduceOp op, string name, int axis, bool keepDim)
    {
        int ax = ShapeUtil.Axis(name, axis, Rank);
        if (Shape[ax] == 0) throw new ArgumentException($"{name}: cannot reduce over axis {axis} of size 0 in shape {ShapeUtil.Format(Shape)}.");
        var (outer, n, inner) = ShapeUtil.Split(Shape, ax);
        var y = Empty(ReducedShape(_shape, ax, keepDim), Device);
        Backend.Reduce(op, this, outer, n, inner, y);
        return y;
    }

    internal static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim) { var s = (int[])shape.Clone(); s[axis] = 1; return s; }
        var r = new int[shape.Length - 1];
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != axis) r[j++] = shape[i];
        return r;
    }
}

internal sealed class SumNode : Node
{
    private readonly int[] _keepShape;

    private SumNode(Tensor x, int[] keepShape) : base(x) => _keepShape = keepShape;

    public static Tensor Apply(Tensor x, int[] axes, bool keepDim)
    {
        var reduce = new bool[x.Rank];
        foreach (var a in axes)
        {
            int ax = ShapeUtil.Axis("Sum", a, x.Rank);
            if (reduce[ax]) throw new ArgumentException($"Sum: axis {a} given twice for shape {ShapeUtil.Format(x.Shape)}.");
            reduce[ax] = true;
        }
        var keepShape = x.ShapeArray();
        for (int i = 0; i < keepShape.Length; i++) if (reduce[i]) keepShape[i] = 1;

        // Runs of adjacent reduced axes are one [outer, n, inner] reduction each.
        Tensor current = x;
        var shape = x.ShapeArray();
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
            var y = Tensor.Empty(shape, x.Device);
            x.Backend.Reduce(ReduceOp.Sum, current, outer, n, inner, y);
            current = y;
        }
        if (ReferenceEquals(current, x)) { current = Tensor.Empty(shape, x.Device); x.Backend.Copy(x, current); }
        var result = keepDim ? current : current.Detach().ReshapeView(KeptOnly(keepShape, reduce));
        if (Tensor.ShouldRecord(x)) result.Record(new SumNode(x, keepShape));
        return result;
    }

    private static int[] KeptOnly(int[] keepShape, bool[] reduce)
    {
        var r = new List<int>();
        for (int i = 0; i < keepShape.Length; i++) if (!reduce[i]) r.Add(keepShape[i]);
        return r.ToArray();
    }

    public override Tensor?[] Backward(Tensor g) => [g.Reshape(_keepShape).Expand(Inputs[0].ShapeArray())];
}

internal sealed class MaxNode : Node
{
    private readonly int _axis;
    private readonly Tensor _valuesKeep;

    private MaxNode(Tensor x, int axis, Tensor valuesKeep) : base(x) { _axis = axis; _valuesKeep = valuesKeep; }

    public static Tensor Apply(Tensor x, int axis, bool keepDim, ReduceOp op)
    {
        int ax = ShapeUtil.Axis(op.ToString(), axis, x.Rank);
        var keep = x.ReduceAxis(op, op.ToString(), ax, keepDim: true);
        var result = keepDim ? keep : keep.Detach().ReshapeView(Tensor.ReducedShape(x.ShapeRef, ax, false));
        if (Tensor.ShouldRecord(x)) result.Record(new MaxNode(x, ax, keep.Detach()));
        return result;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var mask = x.Eq(_valuesKeep);
        var gk = g.Reshape(_valuesKeep.ShapeArray());
        return [gk * mask / mask.Sum(_axis, keepDim: true)];
    }
}

internal sealed class ExpandNode : Node
{
    private ExpandNode(Tensor x) : base(x) { }

    public static Tensor Apply(Tensor x, int[] shape)
    {
        var target = ShapeUtil.Broadcast("Expand", x.Shape, shape);
        if (!target.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Expand: shape {ShapeUtil.Format(x.Shape)} cannot be expanded to {ShapeUtil.Format(shape)}.");
        if (x.Shape.SequenceEqual(shape)) return x;
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.Binary(BinaryOp.Add, x, ZeroOf(x.Device), y);
        if (Tensor.ShouldRecord(x)) y.Record(new ExpandNode(x));
        return y;
    }

    [ThreadStatic] private static Tensor? _cpuZero;

    private static Tensor ZeroOf(Device d) => d == Device.Cpu ? _cpuZero ??= new Tensor(new CpuStorage(1), 0, []) : Tensor.Scalar(0f, d);  // not pooled: it outlives any TensorScope

    // The engine's SumToShape turns the broadcast gradient back into the input's shape.
    public override Tensor?[] Backward(Tensor g) => [g];
}
