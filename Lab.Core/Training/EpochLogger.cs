using Microsoft.Extensions.Logging;

namespace Lab.Core.Training;

/// <summary>
/// Logs each epoch's metrics through Microsoft.Extensions.Logging (the program decides where they go: GenLab's
/// programs send them to the run's JSON-lines log): one Information event per epoch with the epoch (1-based) and
/// the metrics as a dictionary, and a Warning when a metric is NaN or infinite.
/// </summary>
public sealed class EpochLogger(ILogger logger) : Callback
{
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!logger.IsEnabled(LogLevel.Information)) return;
        var metrics = logs.ToDictionary(kv => kv.Key, kv => kv.Value);
        logger.LogInformation("epoch {Epoch}: {@Metrics}", epoch + 1, metrics);
        foreach (var (name, value) in metrics.Where(kv => !double.IsFinite(kv.Value)))
            logger.LogWarning("epoch {Epoch}: {Metric} is {Value}", epoch + 1, name, value);
    }
}
