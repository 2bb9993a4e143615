using Lab.Core.Autodiff;
using Lab.Core.Distributed;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation of an N x C (x spatial ...) tensor over every axis but the channel axis (1), PyTorch's
    /// F.batch_norm: in training, the batch's mean and biased variance, with the running statistics (when given)
    /// moved toward the batch's mean and unbiased variance by <paramref name="momentum"/>; in evaluation, the running
    /// statistics. Where the backend has fused kernels (the CPU), training mode is one kernel forward and one backward
    /// whose rule is written in tensor ops too, so it differentiates again; elsewhere it is composed from
    /// differentiable ops. Evaluation mode is one kernel when no gradient is recorded.
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
            // One rank's global batch is its own: the same kernels as without, as the composed forms are the same arithmetic.
            if ((synchronised is null || synchronised.Size == 1) && BatchNormNode.Fused(x)) return BatchNormNode.Train(x, runningMean, runningVar, weight, bias, momentum, eps);
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
            if (BatchNormNode.Fused(x) && !BatchNormNode.Records(x, runningMean, runningVar, weight, bias))
                return BatchNormNode.Eval(x, runningMean, runningVar, weight, bias, eps);
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

/// <summary>
/// Training-mode batch norm as one kernel each way (see <see cref="Cpu.BatchNormKernels"/>), and evaluation mode without
/// a recorded graph. Inputs are x, then the weight and the bias where given; the forward saves each channel's mean and
/// 1 / sqrt(var + eps).
/// </summary>
internal sealed class BatchNormNode : PooledNode<BatchNormNode>
{
    /// <summary>Takes the composed path even where the backend fuses, on this thread (tests compare the two).</summary>
    [ThreadStatic] internal static bool ForceComposed;

    private Tensor _mean = null!, _invStd = null!;
    private int _weightIndex, _biasIndex;
    private float _eps;

    public BatchNormNode() { }

    private protected override void ClearSaved() => (_mean, _invStd) = (null!, null!);

    public static bool Fused(Tensor x) => !ForceComposed && x.Backend.FusesBatchNorm;

    /// <summary>Whether a graph is recorded through any of the given operands.</summary>
    public static bool Records(params ReadOnlySpan<Tensor?> operands)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in operands) if (t is not null && t.RequiresGrad) return true;
        return false;
    }

    private static (int N, int Channels, int Spatial) Dims(Tensor x)
    {
        int n = x.Shape[0], channels = x.Shape[1];
        return (n, channels, n * channels == 0 ? 0 : x.Numel / (n * channels));
    }

    public static Tensor Train(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, float momentum, float eps)
    {
        var (n, channels, spatial) = Dims(x);
        var y = Tensor.Empty(x.Shape, x.Device);
        var mean = Tensor.Empty([channels], x.Device);
        var invStd = Tensor.Empty([channels], x.Device);
        // The running statistics move only when both are given (as in the composed form).
        bool running = runningMean is not null && runningVar is not null;
        x.Backend.BatchNormTrain(x, weight, bias, y, mean, invStd, running ? runningMean : null, running ? runningVar : null,
            n, channels, spatial, momentum, eps);
        Anomaly.Check("BatchNorm", y);
        if (!Records(x, weight, bias)) return y;
        var node = NodePool<BatchNormNode>.Rent();
        (node._mean, node._invStd, node._eps) = (mean, invStd, eps);
        node._weightIndex = weight is null ? -1 : 1;
        node._biasIndex = bias is null ? -1 : weight is null ? 1 : 2;
        if (weight is not null && bias is not null) node.SetInputs(x, weight, bias);
        else if (weight is not null) node.SetInputs(x, weight);
        else if (bias is not null) node.SetInputs(x, bias);
        else node.SetInputs(x);
        y.Record(node);
        return y;
    }

    public static Tensor Eval(Tensor x, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias, float eps)
    {
        var (n, channels, spatial) = Dims(x);
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.BatchNormEval(x, runningMean, runningVar, weight, bias, y, n, channels, spatial, eps);
        Anomaly.Check("BatchNorm", y);
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var weight = _weightIndex < 0 ? null : Inputs[_weightIndex];
        bool needX = Needs(0), needW = _weightIndex > 0 && Needs(_weightIndex), needB = _biasIndex > 0 && Needs(_biasIndex);
        var grads = GradBuffer(Inputs.Length);
        var (n, channels, spatial) = Dims(x);
        if (!GradMode.IsEnabled)
        {
            var dx = needX ? Tensor.Empty(x.Shape, x.Device) : null;
            var dw = needW ? Tensor.Empty([channels], x.Device) : null;
            var db = needB ? Tensor.Empty([channels], x.Device) : null;
            x.Backend.BatchNormGrad(x, g, _mean, _invStd, weight, dx, dw, db, n, channels, spatial);
            grads[0] = dx;
            if (needW) grads[_weightIndex] = dw;
            if (needB) grads[_biasIndex] = db;
            return grads;
        }
        // The same rule in differentiable ops (createGraph): the statistics are recomputed from x so that they carry
        // x's history.
        var axes = new int[x.Rank - 1];
        for (int i = 1; i < axes.Length; i++) axes[i] = i + 1;
        var statShape = new int[x.Rank];
        Array.Fill(statShape, 1);
        statShape[1] = channels;
        var centered = x - x.Mean(axes, keepDim: true);
        var rstd = ((centered * centered).Mean(axes, keepDim: true) + _eps).Pow(-0.5f);
        var xhat = centered * rstd;
        if (needX)
        {
            var gw = weight is null ? g : g * weight.Reshape(statShape);
            grads[0] = rstd * (gw - gw.Mean(axes, keepDim: true) - xhat * (gw * xhat).Mean(axes, keepDim: true));
        }
        if (needW) grads[_weightIndex] = (g * xhat).Sum(axes);
        if (needB) grads[_biasIndex] = g.Sum(axes);
        return grads;
    }
}
