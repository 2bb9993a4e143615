using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Joins tensors along an existing axis; all other dimensions must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0)
        => ConcatNode.Apply(tensors is Tensor[] array ? array : tensors.ToArray(), axis);

    /// <summary>Joins tensors along an existing axis (a collection expression here allocates nothing).</summary>
    public static Tensor Concat(ReadOnlySpan<Tensor> tensors, int axis = 0) => ConcatNode.Apply(tensors, axis);

    /// <summary>Joins same-shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack: no tensors given.");
        var first = tensors[0];
        int ax = ShapeUtil.Axis("Stack", axis, first.Rank + 1);
        var list = new Tensor[tensors.Count];
        for (int i = 0; i < list.Length; i++)
        {
            if (!tensors[i].Shape.SequenceEqual(first.Shape))
                throw new ArgumentException($"Stack: tensor {i} has shape {ShapeUtil.Format(tensors[i].Shape)}, tensor 0 has {ShapeUtil.Format(first.Shape)}.");
            list[i] = tensors[i].Unsqueeze(ax);
        }
        return Concat(list, ax);
    }

    /// <summary>The slice start..start+length along an axis (a copy; Rows is the leading-axis case).</summary>
    public Tensor Narrow(int axis, int start, int length) => NarrowNode.Apply(this, axis, start, length);

    /// <summary>Rows start..start+count of the leading axis.</summary>
    public Tensor Rows(int start, int count) => Narrow(0, start, count);
}

internal sealed class ConcatNode : PooledNode<ConcatNode>
{
    private int _axis;

    public ConcatNode() { }

    public static Tensor Apply(ReadOnlySpan<Tensor> tensors, int axis)
    {
        if (tensors.Length == 0) throw new ArgumentException("Concat: no tensors given.");
        var first = tensors[0];
        int ax = ShapeUtil.Axis("Concat", axis, first.Rank);
        int total = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            if (t.Device != first.Device) throw new ArgumentException($"Concat: tensor {i} is on {t.Device}, tensor 0 on {first.Device}.");
            bool ok = t.Rank == first.Rank;
            for (int d = 0; ok && d < t.Rank; d++) ok = d == ax || t.Shape[d] == first.Shape[d];
            if (!ok) throw new ArgumentException($"Concat: tensor {i} has shape {ShapeUtil.Format(t.Shape)}, incompatible with {ShapeUtil.Format(first.Shape)} along axis {axis}.");
            total += t.Shape[ax];
        }
        Span<int> shape = stackalloc int[first.Rank];
        first.Shape.CopyTo(shape);
        shape[ax] = total;
        var y = Tensor.Empty(shape, first.Device);
        var (outer, _, inner) = ShapeUtil.Split(shape, ax);
        int offset = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            int cols = t.Shape[ax] * inner;
            if (cols > 0) first.Backend.CopyBlocks(t, 0, cols, y, offset * inner, total * inner, outer, cols, accumulate: false);
            offset += t.Shape[ax];
        }
        bool record = false;
        for (int i = 0; i < tensors.Length && !record; i++) record = Tensor.ShouldRecord(tensors[i]);
        if (record)
        {
            var node = NodePool<ConcatNode>.Rent();
            node._axis = ax;
            node.SetInputs(tensors);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var grads = GradBuffer(Inputs.Length);
        int start = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            int len = Inputs[i].Shape[_axis];
            if (Needs(i)) grads[i] = g.Narrow(_axis, start, len);
            start += len;
        }
        return grads;
    }
}

/// <summary>Narrow and its adjoint (embedding a slice into zeros) are each other's gradients.</summary>
internal sealed class NarrowNode : PooledNode<NarrowNode>
{
    private int _axis, _start, _length, _fullLength;
    private bool _embed;

    public NarrowNode() { }

    private static void Record(Tensor y, Tensor x, int axis, int start, int length, int fullLength, bool embed)
    {
        var node = NodePool<NarrowNode>.Rent();
        (node._axis, node._start, node._length, node._fullLength, node._embed) = (axis, start, length, fullLength, embed);
        node.SetInputs(x);
        y.Record(node);
    }

    public override string Name => _embed ? "NarrowBackwardBackward" : "NarrowBackward";

    public static Tensor Apply(Tensor x, int axis, int start, int length)
    {
        int ax = ShapeUtil.Axis("Narrow", axis, x.Rank);
        int n = x.Shape[ax];
        if (start < 0 || length < 0 || start + length > n)
            throw new ArgumentException($"Narrow: range [{start}, {start + length}) is outside axis {axis} of size {n} (shape {ShapeUtil.Format(x.Shape)}).");
        Span<int> shape = stackalloc int[x.Rank];
        x.Shape.CopyTo(shape);
        shape[ax] = length;
        var y = Tensor.Empty(shape, x.Device);
        var (outer, _, inner) = ShapeUtil.Split(x.Shape, ax);
        if (length > 0 && outer > 0)
            x.Backend.CopyBlocks(x, start * inner, n * inner, y, 0, length * inner, outer, length * inner, accumulate: false);
        if (Tensor.ShouldRecord(x)) Record(y, x, ax, start, length, n, embed: false);
        return y;
    }

    /// <summary>A zero tensor with axis length fullLength holding g at start..start+length.</summary>
    public static Tensor Embed(Tensor g, int axis, int start, int fullLength)
    {
        Span<int> shape = stackalloc int[g.Rank];
        g.Shape.CopyTo(shape);
        int length = shape[axis];
        shape[axis] = fullLength;
        var y = Tensor.Zeros(shape, g.Device);
        var (outer, _, inner) = ShapeUtil.Split(shape, axis);
        if (length > 0 && outer > 0)
            g.Backend.CopyBlocks(g, 0, length * inner, y, start * inner, fullLength * inner, outer, length * inner, accumulate: false);
        if (Tensor.ShouldRecord(g)) Record(y, g, axis, start, length, fullLength, embed: true);
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
        => Grads(_embed ? g.Narrow(_axis, _start, _length) : Embed(g, _axis, _start, _fullLength));
}
