using Lab.Core.Logging;

namespace Lab.Core.Training;

/// <summary>
/// Keras's TensorBoard callback: each epoch's metrics as scalars, training values under logDir/train and
/// validation values (the val_ keys, prefix dropped) under logDir/validation, plus the learning rate.
/// </summary>
public sealed class TensorBoardCallback(string logDir) : Callback, IDisposable
{
    private TensorBoardWriter? _train, _validation;

    public override void OnTrainBegin()
    {
        _train ??= new TensorBoardWriter(Path.Combine(logDir, "train"));
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var train = logs.Where(kv => !kv.Key.StartsWith("val_", StringComparison.Ordinal)).ToDictionary(kv => "epoch_" + kv.Key, kv => (float)kv.Value);
        if (Trainer.Optimizer is not null) train["epoch_learning_rate"] = Trainer.Optimizer.LearningRate;
        _train!.AddScalars(train, epoch);
        var val = logs.Where(kv => kv.Key.StartsWith("val_", StringComparison.Ordinal)).ToDictionary(kv => "epoch_" + kv.Key[4..], kv => (float)kv.Value);
        if (val.Count > 0)
        {
            _validation ??= new TensorBoardWriter(Path.Combine(logDir, "validation"));
            _validation.AddScalars(val, epoch);
        }
    }

    public override void OnTrainEnd() => Dispose();

    public void Dispose()
    {
        _train?.Dispose();
        _validation?.Dispose();
        _train = _validation = null;
    }
}
