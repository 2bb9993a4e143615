namespace Lab.Core.Nn;

/// <summary>
/// Batch normalisation over every axis but the channel axis (1). Training uses the batch's statistics
/// (biased variance) and updates running ones: running = (1 - momentum) running + momentum batch, with the
/// unbiased variance, as PyTorch does. Keras's BatchNormalization() is momentum 0.01, eps 1e-3 here.
/// The layer holds the state; <see cref="Tensor.BatchNorm"/> does the arithmetic (fused kernels on the CPU).
/// Under data parallelism the statistics are each rank's own unless <see cref="Synchronised"/> (PyTorch's SyncBatchNorm).
/// </summary>
public class BatchNorm : Module
{
    private readonly int _rank;

    protected BatchNorm(int features, int rank, float momentum, float eps)
    {
        if (features < 1) throw new ArgumentException($"BatchNorm: feature count must be positive, got {features}.");
        if (!(momentum is >= 0 and <= 1)) throw new ArgumentException($"BatchNorm: momentum must be in [0, 1], got {momentum}.");
        (Features, _rank, Momentum, Eps) = (features, rank, momentum, eps);
        Weight = RegisterParameter("weight", Tensor.Ones(features));
        Bias = RegisterParameter("bias", Tensor.Zeros(features));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(features));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(features));
    }

    public int Features { get; }
    public float Momentum { get; }
    public float Eps { get; }
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    /// <summary>
    /// When set, training uses the global batch's statistics over the ranks of this data-parallel job (every rank must
    /// then run this layer in the same order), with gradients exact for the global batch and running statistics alike on
    /// every rank; evaluation is unchanged. Null (the default): this process's batch only.
    /// <see cref="Distributed.DataParallel.ConvertSyncBatchNorm"/> sets it on every batch norm of a model.
    /// </summary>
    public Distributed.DataParallel? Synchronised { get; set; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != _rank || x.Shape[1] != Features)
            throw new ArgumentException($"{GetType().Name}({Features}): expected input with {_rank} dimensions and {Features} channels at axis 1, got {ShapeUtil.Format(x.Shape)}.");
        return Tensor.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, Training, Momentum, Eps, Synchronised);
    }

    public override string Describe() => $"{GetType().Name}({Features})";
}

public sealed class BatchNorm1d(int features, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(features, 2, momentum, eps);

public sealed class BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(channels, 4, momentum, eps);
