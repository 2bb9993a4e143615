using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Reorders dimensions: result dimension i is input dimension perm[i] (a copy).</summary>
    public Tensor Permute(params ReadOnlySpan<int> perm) => PermuteNode.Apply(this, perm);

    /// <summary>Swaps two dimensions (defaults: the last two, a matrix transpose).</summary>
    public Tensor Transpose(int dim0 = -2, int dim1 = -1)
    {
        int a = ShapeUtil.Axis("Transpose", dim0, Rank), b = ShapeUtil.Axis("Transpose", dim1, Rank);
        Span<int> perm = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The matrix transpose of a 2-D tensor.</summary>
    public Tensor T => Rank == 2 ? Transpose(0, 1) : throw new InvalidOperationException($"T: expected a 2-D tensor, got shape {ShapeUtil.Format(Shape)}.");
}

internal sealed class PermuteNode : PooledNode<PermuteNode>
{
    private int[] _perm = [];   // capacity grows to the largest rank seen; the input's rank says how much is used

    public PermuteNode() { }

    public static Tensor Apply(Tensor x, ReadOnlySpan<int> axes)
    {
        if (axes.Length != x.Rank)
            throw new ArgumentException($"Permute: {axes.Length} axes given for a tensor of shape {ShapeUtil.Format(x.Shape)}.");
        Span<bool> seen = stackalloc bool[axes.Length];
        Span<int> perm = stackalloc int[axes.Length], shape = stackalloc int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            int p = ShapeUtil.Axis("Permute", axes[i], x.Rank);
            if (seen[p]) throw new ArgumentException($"Permute: axis {axes[i]} repeated in [{string.Join(", ", axes.ToArray())}].");
            seen[p] = true;
            perm[i] = p;
            shape[i] = x.Shape[p];
        }
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.Permute(x, perm, y);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<PermuteNode>.Rent();
            if (node._perm.Length < perm.Length) node._perm = new int[perm.Length];
            perm.CopyTo(node._perm);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        int rank = Inputs[0].Rank;
        Span<int> inverse = stackalloc int[rank];
        for (int i = 0; i < rank; i++) inverse[_perm[i]] = i;
        return Grads(g.Permute(inverse));
    }
}
