using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Reorders dimensions: result dimension i is input dimension perm[i] (a copy).</summary>
    public Tensor Permute(params int[] perm) => PermuteNode.Apply(this, perm);

    /// <summary>Swaps two dimensions (defaults: the last two, a matrix transpose).</summary>
    public Tensor Transpose(int dim0 = -2, int dim1 = -1)
    {
        int a = ShapeUtil.Axis("Transpose", dim0, Rank), b = ShapeUtil.Axis("Transpose", dim1, Rank);
        var perm = new int[Rank];
        for (int i = 0; i < Rank; i++) perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The matrix transpose of a 2-D tensor.</summary>
    public Tensor T => Rank == 2 ? Transpose(0, 1) : throw new InvalidOperationException($"T: expected a 2-D tensor, got shape {ShapeUtil.Format(Shape)}.");
}

internal sealed class PermuteNode : Node
{
    private readonly int[] _perm;

    private PermuteNode(Tensor x, int[] perm) : base(x) => _perm = perm;

    public static Tensor Apply(Tensor x, int[] perm)
    {
        if (perm.Length != x.Rank)
            throw new ArgumentException($"Permute: {perm.Length} axes given for a tensor of shape {ShapeUtil.Format(x.Shape)}.");
        var seen = new bool[perm.Length];
        var shape = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            int p = ShapeUtil.Axis("Permute", perm[i], x.Rank);
            if (seen[p]) throw new ArgumentException($"Permute: axis {perm[i]} repeated in [{string.Join(", ", perm)}].");
            seen[p] = true;
            perm[i] = p;
            shape[i] = x.Shape[p];
        }
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.Permute(x, perm, y);
        if (Tensor.ShouldRecord(x)) y.Record(new PermuteNode(x, perm));
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var inverse = new int[_perm.Length];
        for (int i = 0; i < _perm.Length; i++) inverse[_perm[i]] = i;
        return [g.Permute(inverse)];
    }
}
