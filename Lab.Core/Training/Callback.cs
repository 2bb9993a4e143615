namespace Lab.Core.Training;

/// <summary>Hooks into Fit (Keras's callbacks). Epochs are 0-based; logs hold the epoch's metrics.</summary>
public abstract class Callback
{
    /// <summary>The trainer running Fit (set before OnTrainBegin).</summary>
    public Trainer Trainer { get; internal set; } = null!;

    public virtual void OnTrainBegin() { }
    public virtual void OnTrainEnd() { }
    public virtual void OnEpochBegin(int epoch) { }
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }
    public virtual void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>
    /// Whether this callback overrides <see cref="OnBatchEnd"/>; when none does, the trainer does not read
    /// the metrics after every batch (on a GPU that read waits for the device).
    /// </summary>
    internal bool ListensToBatches =>
        GetType().GetMethod(nameof(OnBatchEnd), [typeof(int), typeof(IReadOnlyDictionary<string, double>)])!.DeclaringType != typeof(Callback);

    /// <summary>Reads a monitored value, explaining which keys exist when it is missing.</summary>
    protected static double Monitored(IReadOnlyDictionary<string, double> logs, string monitor, string who) =>
        logs.TryGetValue(monitor, out var v) ? v
        : throw new InvalidOperationException($"{who}: monitored '{monitor}' is not in the logs ({string.Join(", ", logs.Keys)}).");

    /// <summary>Whether "min" or "max" is better for a monitored key ("auto": accuracy-like keys are maximised).</summary>
    protected static bool Maximize(string mode, string monitor) => mode switch
    {
        "min" => false,
        "max" => true,
        "auto" => monitor.Contains("acc", StringComparison.OrdinalIgnoreCase),
        _ => throw new ArgumentException($"mode must be min, max or auto, got '{mode}'."),
    };
}
