using System.Globalization;
using Lab.Core.Autodiff;
using Lab.Core.Optim;

namespace Lab.Core.Training;

/// <summary>Stops when the monitored value has not improved by minDelta for patience epochs; can restore the best weights.</summary>
public sealed class EarlyStopping(string monitor = "val_loss", int patience = 0, double minDelta = 0, string mode = "auto",
    bool restoreBestWeights = false) : Callback
{
    private double _best;
    private int _wait;
    private float[][]? _bestWeights;
    public int StoppedEpoch { get; private set; } = -1;
    public int BestEpoch { get; private set; } = -1;

    public override void OnTrainBegin() { _best = Maximize(mode, monitor) ? double.NegativeInfinity : double.PositiveInfinity; _wait = 0; }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double v = Monitored(logs, monitor, nameof(EarlyStopping));
        bool better = Maximize(mode, monitor) ? v > _best + minDelta : v < _best - minDelta;
        if (better)
        {
            _best = v; _wait = 0; BestEpoch = epoch;
            if (restoreBestWeights) _bestWeights = Trainer.Model.StateDict().Select(p => p.Tensor.ToArray()).ToArray();
            return;
        }
        if (++_wait > patience) { StoppedEpoch = epoch; Trainer.StopTraining = true; }
    }

    public override void OnTrainEnd()
    {
        if (!restoreBestWeights || _bestWeights is null || StoppedEpoch < 0) return;
        using var _ = new NoGrad();
        int i = 0;
        foreach (var (_, t) in Trainer.Model.StateDict()) t.CopyFrom(_bestWeights[i++]);
    }
}

/// <summary>Saves a checkpoint (model and optimizer) after each epoch, or only when the monitored value improves.</summary>
public sealed class ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = false, string mode = "auto") : Callback
{
    private double _best;
    public int Saves { get; private set; }

    public override void OnTrainBegin() => _best = Maximize(mode, monitor) ? double.NegativeInfinity : double.PositiveInfinity;

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (saveBestOnly)
        {
            double v = Monitored(logs, monitor, nameof(ModelCheckpoint));
            bool better = Maximize(mode, monitor) ? v > _best : v < _best;
            if (!better) return;
            _best = v;
        }
        var file = path.Replace("{epoch}", (epoch + 1).ToString("D2", CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Checkpoint.Save(file, Trainer.Model, Trainer.Optimizer, new CheckpointInfo { Epoch = epoch + 1 });
        Saves++;
    }
}

/// <summary>One CSV row per epoch (epoch, then the logs' keys in sorted order); the file is rewritten atomically each epoch.</summary>
public sealed class CsvLogger(string path) : Callback
{
    private IO.CsvWriter? _csv;
    private string[] _keys = [];

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (_csv is null)
        {
            _keys = logs.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
            _csv = new IO.CsvWriter(["epoch", .. _keys]);
        }
        _csv.AddRow([epoch, .. _keys.Select(k => logs.TryGetValue(k, out var v) ? v : double.NaN)]);
        _csv.Save(path);
    }
}

/// <summary>Sets the learning rate at the start of each epoch from a schedule or a function of (epoch, current rate).</summary>
public sealed class LearningRateScheduler : Callback
{
    private readonly Func<int, float, float> _rate;

    public LearningRateScheduler(Func<int, float, float> rate) => _rate = rate;
    public LearningRateScheduler(ILearningRateSchedule schedule) => _rate = (epoch, _) => schedule.At(epoch, Trainer.Optimizer!.InitialLearningRate);

    public override void OnEpochBegin(int epoch)
    {
        var opt = Trainer.Optimizer ?? throw new InvalidOperationException("LearningRateScheduler: the trainer has no optimizer (call Compile).");
        opt.LearningRate = _rate(epoch, opt.LearningRate);
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }
}

/// <summary>Multiplies the learning rate by factor when the monitored value stalls for patience epochs.</summary>
public sealed class ReduceLROnPlateau(string monitor = "val_loss", float factor = 0.1f, int patience = 10, string mode = "auto",
    double minDelta = 1e-4, float minLr = 0) : Callback
{
    private double _best;
    private int _wait;

    public override void OnTrainBegin() { _best = Maximize(mode, monitor) ? double.NegativeInfinity : double.PositiveInfinity; _wait = 0; }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double v = Monitored(logs, monitor, nameof(ReduceLROnPlateau));
        bool better = Maximize(mode, monitor) ? v > _best + minDelta : v < _best - minDelta;
        if (better) { _best = v; _wait = 0; return; }
        if (++_wait < patience) return;
        var opt = Trainer.Optimizer!;
        opt.LearningRate = Math.Max(minLr, opt.LearningRate * factor);
        _wait = 0;
    }
}

/// <summary>Runs an action at the end of each epoch (Keras's LambdaCallback).</summary>
public sealed class LambdaCallback(Action<int, IReadOnlyDictionary<string, double>> onEpochEnd) : Callback
{
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => onEpochEnd(epoch, logs);
}
