namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Keras's batch_dot: for every sample b, the sum over a's axis <paramref name="axisA"/> and b's axis
    /// <paramref name="axisB"/> of their products (axes count the batch axis 0, which is never contracted). The result
    /// holds a's remaining axes, then b's: (32, 30, 400)·(32, 20, 400) over axes (2, 2) is (32, 30, 20); two
    /// (B, n) vectors give (B, 1), as Keras. Composed from permute, reshape and a batched MatMul (no kernel of its own),
    /// so its gradients of every order come from theirs.
    /// </summary>
    public static Tensor BatchDot(Tensor a, Tensor b, int axisA, int axisB)
    {
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"BatchDot: both operands need a batch axis and at least one more, got {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        if (a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"BatchDot: batch sizes differ: {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        int ax = ShapeUtil.Axis("BatchDot", axisA, a.Rank), ay = ShapeUtil.Axis("BatchDot", axisB, b.Rank);
        if (ax == 0 || ay == 0)
            throw new ArgumentException($"BatchDot: axes ({axisA}, {axisB}) include the batch axis 0, which is never contracted.");
        if (a.Shape[ax] != b.Shape[ay])
            throw new ArgumentException($"BatchDot: axis {axisA} of {ShapeUtil.Format(a.Shape)} ({a.Shape[ax]}) and axis {axisB} of {ShapeUtil.Format(b.Shape)} ({b.Shape[ay]}) differ in length.");
        int batch = a.Shape[0], k = a.Shape[ax];
        int m = a.Numel / Math.Max(1, batch * k), n = b.Numel / Math.Max(1, batch * k);
        // Each operand becomes a (B, rows, K) or (B, K, cols) matrix stack; an axis already first or last needs no copy,
        // MatMul reads it transposed instead.
        Span<int> perm = stackalloc int[Math.Max(a.Rank, b.Rank)];
        Tensor am, bm;
        bool ta = false, tb = false;
        if (ax == a.Rank - 1) am = a.Reshape(batch, m, k);
        else if (ax == 1) (am, ta) = (a.Reshape(batch, k, m), true);
        else am = a.Permute(MoveAxis(perm[..a.Rank], ax, toEnd: true)).Reshape(batch, m, k);
        if (ay == 1) bm = b.Reshape(batch, k, n);
        else if (ay == b.Rank - 1) (bm, tb) = (b.Reshape(batch, n, k), true);
        else bm = b.Permute(MoveAxis(perm[..b.Rank], ay, toEnd: false)).Reshape(batch, k, n);
        var y = MatMul(am, bm, ta, tb);
        Span<int> shape = stackalloc int[Math.Max(2, a.Rank + b.Rank - 3)];
        int r = 0;
        shape[r++] = batch;
        for (int i = 1; i < a.Rank; i++) if (i != ax) shape[r++] = a.Shape[i];
        for (int i = 1; i < b.Rank; i++) if (i != ay) shape[r++] = b.Shape[i];
        if (r == 1) shape[r++] = 1;   // two vectors per sample: Keras keeps a trailing axis of 1
        return y.Reshape(shape[..r]);
    }

    /// <summary>The permutation that moves <paramref name="axis"/> after the others (or to just after the batch axis).</summary>
    private static ReadOnlySpan<int> MoveAxis(Span<int> perm, int axis, bool toEnd)
    {
        int j = 0;
        perm[j++] = 0;
        if (!toEnd) perm[j++] = axis;
        for (int i = 1; i < perm.Length; i++) if (i != axis) perm[j++] = i;
        if (toEnd) perm[j] = axis;
        return perm;
    }

    /// <summary>
    /// x / sqrt(max(sum(x², axis), epsilon)) along one axis, as Keras's l2_normalize (epsilon 1e-12): a zero row stays
    /// zero instead of becoming NaN. Composite, so differentiable to any order.
    /// </summary>
    public Tensor L2Normalize(int axis = -1, float epsilon = 1e-12f)
    {
        int ax = ShapeUtil.Axis("L2Normalize", axis, Rank);
        return this * Square().Sum(ax, keepDim: true).Clamp(epsilon, float.MaxValue).Pow(-0.5f);
    }
}
