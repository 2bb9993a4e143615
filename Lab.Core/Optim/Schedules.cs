namespace Lab.Core.Optim;

/// <summary>A learning rate as a function of the epoch (0-based) and the initial rate.</summary>
public interface ILearningRateSchedule
{
    float At(int epoch, float initial);
}

/// <summary>Multiplies the rate by gamma every stepSize epochs.</summary>
public sealed record StepDecay(int StepSize, float Gamma) : ILearningRateSchedule
{
    public float At(int epoch, float initial) => initial * MathF.Pow(Gamma, epoch / Math.Max(1, StepSize));
}

public sealed record ExponentialDecay(float Gamma) : ILearningRateSchedule
{
    public float At(int epoch, float initial) => initial * MathF.Pow(Gamma, epoch);
}

/// <summary>Half a cosine from the initial rate down to MinRate over TotalEpochs.</summary>
public sealed record CosineDecay(int TotalEpochs, float MinRate = 0) : ILearningRateSchedule
{
    public float At(int epoch, float initial)
    {
        double t = Math.Min(1.0, epoch / (double)Math.Max(1, TotalEpochs));
        return (float)(MinRate + (initial - MinRate) * 0.5 * (1 + Math.Cos(Math.PI * t)));
    }
}

/// <summary>A linear ramp over the first WarmupEpochs (from initial/WarmupEpochs), then the inner schedule.</summary>
public sealed record Warmup(int WarmupEpochs, ILearningRateSchedule? Then = null) : ILearningRateSchedule
{
    public float At(int epoch, float initial) => epoch < WarmupEpochs
        ? initial * (epoch + 1) / WarmupEpochs
        : Then?.At(epoch - WarmupEpochs, initial) ?? initial;
}
