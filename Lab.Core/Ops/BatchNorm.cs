using Lab.Core.Autodiff;
using Lab.Core.Distributed;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation of an N x C (x spatial ...) tensor over every axis but the channel axis (1), PyTorch's
    /// F.batch_norm: in training, the batch's mean and biased variance, with the running statistics (when given)
    /// moved toward the batch's mean and unbiased variance by <paramref name="momentum"/>; in evaluation, the running
    /// statistics. Composed from differentiable ops, so its gradients to any order need no rule of their own.
    /// With <paramref name="synchronised"/> (PyTorch's SyncBatchNorm), training statistics are the global batch's: the
    /// per-channel sums, then the sums of squared deviations from the global mean, are all-reduced over the ranks
    /// (two passes, so no E[x^2] - E[x]^2 cancellation; on one rank the same arithmetic as without), through
    /// <see cref="DataParallel.AllReduceSum"/>, whose backward makes the gradients those of the global batch.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f, DataParallel? synchronised = null)
    {
        const string op = "BatchNorm";
        if (x.Rank < 2) throw new ArgumentException($"{op}: expected input N x C (x spatial), got shape {ShapeUtil.Format(x.Shape)}.");
        int channels = x.Shape[1];
        CheckChannels(op, "weight", weight, channels, x);
        CheckChannels(op, "bias", bias, channels, x);
        CheckChannels(op, "running mean", runningMean, channels, x);
        CheckChannels(op, "running variance", runningVar, channels, x);
        Span<int> axes = stackalloc int[x.Rank - 1];
        axes[0] = 0;
        for (int i = 1; i < axes.Length; i++) axes[i] = i + 1;
        Span<int> statShape = stackalloc int[x.Rank];
        statShape.Fill(1);
        statShape[1] = channels;
        Tensor normalized;
        if (training)
        {
            long count = x.Numel / Math.Max(1, channels);
            if (synchronised is not null) count = GlobalCount(synchronised.Communicator, count);
            if (count < 2) throw new ArgumentException($"{op}: training needs more than one value per channel, got input {ShapeUtil.Format(x.Shape)}" +
                (synchronised is null ? "." : $" ({count} per channel over all {synchronised.Size} ranks)."));
            Tensor mean, centered, variance;
            if (synchronised is null)
            {
                mean = x.Mean(axes, keepDim: true);
                centered = x - mean;
                variance = (centered * centered).Mean(axes, keepDim: true);
            }
            else
            {
                mean = synchronised.AllReduceSum(x.Sum(axes, keepDim: true)) * (1f / count);
                centered = x - mean;
                variance = synchronised.AllReduceSum((centered * centered).Sum(axes, keepDim: true)) * (1f / count);
            }
            if (runningMean is not null && runningVar is not null)
                using (new NoGrad())
                {
                    runningMean.CopyFrom(runningMean * (1 - momentum) + mean.Reshape(channels) * momentum);
                    runningVar.CopyFrom(runningVar * (1 - momentum) + variance.Reshape(channels) * (momentum * count / (count - 1f)));
                }
            normalized = centered / (variance + eps).Sqrt();
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new ArgumentException($"{op}: evaluation mode needs the running mean and variance (input {ShapeUtil.Format(x.Shape)}).");
            normalized = (x - runningMean.Reshape(statShape)) / (runningVar.Reshape(statShape) + eps).Sqrt();
        }
        if (weight is not null) normalized = normalized * weight.Reshape(statShape);
        return bias is null ? normalized : normalized + bias.Reshape(statShape);
    }

    private static long GlobalCount(Communicator communicator, long local)
    {
        Span<double> count = stackalloc double[1];
        count[0] = local;
        communicator.AllReduce(count);
        return (long)count[0];
    }

    private static void CheckChannels(string op, string what, Tensor? t, int channels, Tensor x)
    {
        if (t is not null && (t.Rank != 1 || t.Shape[0] != channels))
            throw new ArgumentException($"{op}: {what} must have shape [{channels}] for input {ShapeUtil.Format(x.Shape)}, got {ShapeUtil.Format(t.Shape)}.");
    }
}
