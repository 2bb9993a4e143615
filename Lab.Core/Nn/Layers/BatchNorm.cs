using Lab.Core.Autodiff;

namespace Lab.Core.Nn;

/// <summary>
/// Batch normalisation over every axis but the channel axis (1). Training uses the batch's statistics
/// (biased variance) and updates running ones: running = (1 - momentum) running + momentum batch, with the
/// unbiased variance, as PyTorch does. Keras's BatchNormalization() is momentum 0.01, eps 1e-3 here.
/// Composed from differentiable ops, so its gradient needs no rule of its own.
/// </summary>
public class BatchNorm : Module
{
    private readonly int _rank;

    // Arrays, not constant collection expressions: those allocate on every call in unoptimized (Debug) builds.
    private static readonly int[] BatchAxis = [0], BatchAndSpatialAxes = [0, 2, 3];

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

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != _rank || x.Shape[1] != Features)
            throw new ArgumentException($"{GetType().Name}({Features}): expected input with {_rank} dimensions and {Features} channels at axis 1, got {ShapeUtil.Format(x.Shape)}.");
        ReadOnlySpan<int> axes = _rank == 2 ? BatchAxis : BatchAndSpatialAxes;
        Span<int> statShape = stackalloc int[_rank];
        statShape.Fill(1);
        statShape[1] = Features;
        Tensor mean, variance;
        if (Training)
        {
            int count = x.Numel / Features;
            if (count < 2) throw new ArgumentException($"{GetType().Name}: training needs more than one value per channel, got input {ShapeUtil.Format(x.Shape)}.");
            mean = x.Mean(axes, keepDim: true);
            var centered = x - mean;
            variance = (centered * centered).Mean(axes, keepDim: true);
            using (new NoGrad())
            {
                RunningMean.CopyFrom(RunningMean * (1 - Momentum) + mean.Reshape(Features) * Momentum);
                RunningVar.CopyFrom(RunningVar * (1 - Momentum) + variance.Reshape(Features) * (Momentum * count / (count - 1f)));
            }
            var normalized = centered / (variance + Eps).Sqrt();
            return normalized * Weight.Reshape(statShape) + Bias.Reshape(statShape);
        }
        mean = RunningMean.Reshape(statShape);
        variance = RunningVar.Reshape(statShape);
        return (x - mean) / (variance + Eps).Sqrt() * Weight.Reshape(statShape) + Bias.Reshape(statShape);
    }

    public override string Describe() => $"{GetType().Name}({Features})";
}

public sealed class BatchNorm1d(int features, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(features, 2, momentum, eps);

public sealed class BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(channels, 4, momentum, eps);
