using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Picks entries along an axis by a 1-D tensor of integral indices.</summary>
    public Tensor IndexSelect(int axis, Tensor index) => IndexSelectNode.Apply(this, axis, index);

    /// <summary>For a rows x n tensor and one class index per row, the rows-long vector x[r, index[r]].</summary>
    public Tensor Gather(Tensor index) => GatherNode.Apply(this, index);

    internal static void CheckIndex(string op, Tensor index, int count)
    {
        if (index.Rank != 1) throw new ArgumentException($"{op}: index must be 1-D, got shape {ShapeUtil.Format(index.Shape)}.");
        if (index.Device != Device.Cpu) return; // device kernels check bounds themselves
        var span = index.Span;
        for (int i = 0; i < span.Length; i++)
        {
            float v = span[i];
            if (!(v >= 0 && v < count) || v != MathF.Floor(v))
                throw new ArgumentException($"{op}: index[{i}] = {v} is not an integer in [0, {count}).");
        }
    }
}

/// <summary>IndexSelect and its adjoint IndexAdd are each other's gradients.</summary>
internal sealed class IndexSelectNode : PooledNode<IndexSelectNode>
{
    private int _axis, _n;
    private bool _adjoint;

    public IndexSelectNode() { }

    private static void Record(Tensor y, Tensor x, Tensor index, int axis, int n, bool adjoint)
    {
        var node = NodePool<IndexSelectNode>.Rent();
        (node._axis, node._n, node._adjoint) = (axis, n, adjoint);
        node.SetInputs(x, index);
        y.Record(node);
    }

    public override string Name => _adjoint ? "IndexAddBackward" : "IndexSelectBackward";

    public static Tensor Apply(Tensor x, int axis, Tensor index)
    {
        int ax = ShapeUtil.Axis("IndexSelect", axis, x.Rank);
        Tensor.CheckIndex("IndexSelect", index, x.Shape[ax]);
        if (index.Device != x.Device) throw new ArgumentException($"IndexSelect: index is on {index.Device}, input on {x.Device}.");
        var (outer, n, inner) = ShapeUtil.Split(x.Shape, ax);
        Span<int> shape = stackalloc int[x.Rank];
        x.Shape.CopyTo(shape);
        shape[ax] = index.Numel;
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.IndexSelect(x, index, y, outer, n, inner);
        if (Tensor.ShouldRecord(x)) Record(y, x, index, ax, n, adjoint: false);
        return y;
    }

    /// <summary>Zeros with axis length n, receiving g's slices summed at the indexed positions.</summary>
    public static Tensor IndexAdd(Tensor g, int axis, Tensor index, int n)
    {
        Span<int> shape = stackalloc int[g.Rank];
        g.Shape.CopyTo(shape);
        shape[axis] = n;
        var y = Tensor.Zeros(shape, g.Device);
        var (outer, _, inner) = ShapeUtil.Split(shape, axis);
        g.Backend.IndexAdd(g, index, y, outer, n, inner);
        if (Tensor.ShouldRecord(g)) Record(y, g, index, axis, n, adjoint: true);
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
        => Grads(_adjoint ? g.IndexSelect(_axis, Inputs[1]) : IndexAdd(g, _axis, Inputs[1], _n), null);
}

/// <summary>Gather of one class per row and its adjoint scatter-add, each other's gradients.</summary>
internal sealed class GatherNode : PooledNode<GatherNode>
{
    private int _n;
    private bool _adjoint;

    public GatherNode() { }

    private static void Record(Tensor y, Tensor x, Tensor index, int n, bool adjoint)
    {
        var node = NodePool<GatherNode>.Rent();
        (node._n, node._adjoint) = (n, adjoint);
        node.SetInputs(x, index);
        y.Record(node);
    }

    public override string Name => _adjoint ? "ScatterAddBackward" : "GatherBackward";

    public static Tensor Apply(Tensor x, Tensor index)
    {
        if (x.Rank != 2) throw new ArgumentException($"Gather: expected a rows x classes tensor, got shape {ShapeUtil.Format(x.Shape)}.");
        Tensor.CheckIndex("Gather", index, x.Shape[1]);
        if (index.Numel != x.Shape[0])
            throw new ArgumentException($"Gather: {index.Numel} indices for {x.Shape[0]} rows (input shape {ShapeUtil.Format(x.Shape)}).");
        if (index.Device != x.Device) throw new ArgumentException($"Gather: index is on {index.Device}, input on {x.Device}.");
        var y = Tensor.Empty([x.Shape[0]], x.Device);
        x.Backend.Gather(x, index, y, x.Shape[0], x.Shape[1]);
        if (Tensor.ShouldRecord(x)) Record(y, x, index, x.Shape[1], adjoint: false);
        return y;
    }

    public static Tensor Scatter(Tensor g, Tensor index, int n)
    {
        var y = Tensor.Zeros([g.Shape[0], n], g.Device);
        g.Backend.ScatterAdd(g, index, y, g.Shape[0], n);
        if (Tensor.ShouldRecord(g)) Record(y, g, index, n, adjoint: true);
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
        => Grads(_adjoint ? g.Gather(Inputs[1]) : Scatter(g, Inputs[1], _n), null);
}
