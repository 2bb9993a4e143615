using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product of the last two dimensions, batched over a leading one: [m,k]@[k,n], [B,m,k]@[B,k,n],
    /// and a 2-D operand shared across a batch. <paramref name="transposeA"/> / <paramref name="transposeB"/>
    /// read an operand as its transpose without copying it (Linear uses x @ W^T this way).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
        => MatMulNode.Apply(a, b, transposeA, transposeB);

    public Tensor MatMul(Tensor other) => MatMulNode.Apply(this, other, false, false);
}

internal sealed class MatMulNode : PooledNode<MatMulNode>
{
    private bool _ta, _tb;

    public MatMulNode() { }

    public static Tensor Apply(Tensor a, Tensor b, bool ta, bool tb)
    {
        if (a.Device != b.Device)
            throw new ArgumentException($"MatMul: operands are on different devices ({a.Device} and {b.Device}).");
        if (a.Rank is < 2 or > 3 || b.Rank is < 2 or > 3)
            throw new ArgumentException($"MatMul: expected 2-D or 3-D operands, got {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        int m = ta ? a.Shape[^1] : a.Shape[^2], ka = ta ? a.Shape[^2] : a.Shape[^1];
        int kb = tb ? b.Shape[^1] : b.Shape[^2], n = tb ? b.Shape[^2] : b.Shape[^1];
        if (ka != kb)
            throw new ArgumentException($"MatMul: inner dimensions differ: {ShapeUtil.Format(a.Shape)}{(ta ? "ᵀ" : "")} @ {ShapeUtil.Format(b.Shape)}{(tb ? "ᵀ" : "")} ({ka} vs {kb}).");
        int batchA = a.Rank == 3 ? a.Shape[0] : 1, batchB = b.Rank == 3 ? b.Shape[0] : 1;
        if (a.Rank == 3 && b.Rank == 3 && batchA != batchB)
            throw new ArgumentException($"MatMul: batch sizes differ: {ShapeUtil.Format(a.Shape)} @ {ShapeUtil.Format(b.Shape)}.");
        int batch = Math.Max(batchA, batchB);
        bool batched = a.Rank == 3 || b.Rank == 3;
        var y = batched ? Tensor.Empty([batch, m, n], a.Device) : Tensor.Empty([m, n], a.Device);
        long strideA = a.Rank == 3 ? (long)m * ka : 0, strideB = b.Rank == 3 ? (long)kb * n : 0;
        if (!ta && a.Rank == 3 && b.Rank == 2)
        {
            // A batch against one matrix is a single taller product.
            a.Backend.MatMul(a, false, 0, b, tb, 0, y, 1, batch * m, n, ka, 0f);
        }
        else a.Backend.MatMul(a, ta, strideA, b, tb, strideB, y, batch, m, n, ka, 0f);
        Anomaly.Check("MatMul", y);
        if (Tensor.ShouldRecord(a, b))
        {
            var node = NodePool<MatMulNode>.Rent();
            (node._ta, node._tb) = (ta, tb);
            node.SetInputs(a, b);
            y.Record(node);
        }
        return y;
    }

    // C = op(A) op(B): d op(A) = G op(B)ᵀ and d op(B) = op(A)ᵀ G, arranged so that no operand is copied.
    public override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        Tensor? da = null, db = null;
        if (Needs(0)) da = _ta ? Tensor.MatMul(b, g, _tb, true) : Tensor.MatMul(g, b, false, !_tb);
        if (Needs(1))
        {
            if (a.Rank == 3 && b.Rank == 2 && !_ta)
            {
                // Fold the batch into rows: sum_b op(A_b)ᵀ G_b = op(A)ᵀ G over the stacked rows.
                var a2 = a.Reshape(-1, a.Shape[^1]);
                var g2 = g.Reshape(-1, g.Shape[^1]);
                db = _tb ? Tensor.MatMul(g2, a2, true, false) : Tensor.MatMul(a2, g2, true, false);
            }
            else db = _tb ? Tensor.MatMul(g, a, true, _ta) : Tensor.MatMul(a, g, !_ta, false);
        }
        return Grads(da, db);
    }
}
