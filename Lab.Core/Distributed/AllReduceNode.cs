using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core.Distributed;

/// <summary>
/// A differentiable all-reduce sum, y = (sum over ranks r of s_r x_r) / s_q on rank q, for
/// <see cref="DataParallel.AllReduceSum"/>. Why the scale s, and what the backward must be:
/// <para>
/// Data parallelism differentiates the global loss L = sum_r w_r L_r, where L_r is rank r's loss (the mean over its
/// shard) and w_r its share of the global batch (<see cref="DataParallel.LocalShare"/>): each rank back-propagates its
/// own L_r and the optimizer's gradient is sum_r w_r g_r. For that weighted sum to be dL/dtheta, every gradient rank q
/// computes must be the gradient of L / w_q. Take S = sum_r x_r (the forward, s = 1). Then
/// dL/dx_q = sum_r w_r dL_r/dS, so rank q's gradient for x_q must be (sum_r w_r gS_r) / w_q, with gS_r the gradient
/// rank r found for S: the backward is the same op with scale w. In general the adjoint of "scale s" is "scale w / s"
/// (so the backward of the backward is scale 1 again, and gradients of any order stay exact).
/// With equal shares (w = 1/N) this is PyTorch's SyncBatchNorm backward, a plain all-reduce sum of the gradient.
/// </para>
/// Every rank must reach the same all-reduces in the same order, forward and backward: they do when every rank runs
/// the same model, as data parallelism does.
/// </summary>
internal sealed class AllReduceNode : PooledNode<AllReduceNode>
{
    private Communicator _communicator = null!;
    private float _share, _scale;

    public AllReduceNode() { }

    private protected override void ClearSaved() => _communicator = null!;

    public static Tensor Apply(Tensor x, Communicator communicator, float share, float scale)
    {
        var y = Tensor.Empty(x.Shape, x.Device);
        // A rank of share 0 adds nothing to L; its gradients count for nothing in the average (weight 0), so zeros
        // stand in for the division by 0, while it still takes part in the collective.
        y.Backend.Unary(UnaryOp.Affine, x, y, scale, 0);
        communicator.AllReduce(y, AllReduceOp.Sum);
        if (scale != 1) y.Backend.Unary(UnaryOp.Affine, y, y, scale == 0 ? 0 : 1 / scale, 0);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<AllReduceNode>.Rent();
            (node._communicator, node._share, node._scale) = (communicator, share, scale);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g) =>
        Grads(Apply(g, _communicator, _share, _scale == 0 ? 0 : _share / _scale));
}
