using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Training;

/// <summary>
/// Keras's Model API over a <see cref="Module"/>: Compile, Fit, Evaluate, Predict, with metrics,
/// callbacks and a progress line. Subclass and override <see cref="TrainStep"/> / <see cref="TestStep"/>
/// (and <see cref="Metrics"/>) for custom steps such as a VAE's two loss terms or a GAN's two optimizers.
/// </summary>
public partial class Trainer
{
    private readonly List<Metric> _compiled = [];

    public Trainer(Module model) => Model = model;

    public Module Model { get; }
    public Optimizer? Optimizer { get; protected set; }
    public Func<Tensor, Tensor, Tensor>? Loss { get; protected set; }
    /// <summary>The batch loss as a running mean, shown as "loss".</summary>
    protected Mean LossTracker { get; } = new("loss");
    public bool StopTraining { get; set; }
    public TextWriter Output { get; set; } = Console.Out;
    /// <summary>Redraw the progress line in place (defaults to whether the console is a terminal).</summary>
    public bool LiveProgress { get; set; } = ProgressLine.ConsoleIsLive;
    /// <summary>
    /// What a NaN or infinity message adds after "loss became NaN at epoch 3, step 41": which run and what probably
    /// caused it (e.g. "of score: the learning rate 1e9 (--lr) is probably too high").
    /// </summary>
    public string? NonFiniteHint { get; set; }
    /// <summary>Device batches are moved to (the model's by default).</summary>
    public Device Device => Model.Device;

    /// <summary>The metrics shown and reset each epoch: the loss tracker and the compiled metrics.</summary>
    public virtual IReadOnlyList<Metric> Metrics => [LossTracker, .. _compiled];

    public void Compile(Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, params Metric[] metrics)
    {
        Optimizer = optimizer;
        Loss = loss;
        _heads = null;
        _compiled.Clear();
        _compiled.AddRange(metrics);
    }

    /// <summary>One optimisation step on a batch (Keras's train_step). The default: forward, loss, backward, step.</summary>
    protected virtual void TrainStep(Batch batch)
    {
        if (_heads is not null) { TrainStep(AsMulti(batch)); return; }
        var (optimizer, loss) = (RequireCompiled().Optimizer!, Loss!);
        optimizer.ZeroGrad();
        var pred = Model.Call(batch.X);
        var l = WithRegularization(loss(pred, batch.Y));
        l.Backward();
        optimizer.Step();
        LossTracker.Update(l.Detach(), batch.Size);   // stays on the device until the metrics are read
        using var _ = new NoGrad();
        foreach (var m in _compiled) m.Update(batch.Y, pred.Detach());
    }

    /// <summary>One evaluation step (Keras's test_step): forward and metrics, no update.</summary>
    protected virtual void TestStep(Batch batch)
    {
        if (_heads is not null) { TestStep(AsMulti(batch)); return; }
        var pred = Model.Call(batch.X);
        if (Loss is not null) LossTracker.Update(WithRegularization(Loss(pred, batch.Y)), batch.Size);
        foreach (var m in _compiled) m.Update(batch.Y, pred);
    }

    /// <summary>
    /// The loss plus the model's weight and activity penalties (<see cref="Module.RegularizationLoss"/>), as Keras adds
    /// layer losses to the compiled loss: the loss minimised and the "loss" reported both include them.
    /// </summary>
    protected Tensor WithRegularization(Tensor loss) => Model.RegularizationLoss() is { } penalty ? loss + penalty : loss;

    private Trainer RequireCompiled() =>
        Optimizer is null || Loss is null ? throw new InvalidOperationException(_heads is not null
            ? "Trainer: compiled with a loss per output; Fit and Evaluate a MultiDataset."
            : "Trainer: call Compile(optimizer, loss, metrics) before Fit, or override TrainStep.") : this;

    public History Fit(Dataset train, int epochs, int batchSize = 32, Dataset? validationData = null, double validationSplit = 0,
        IEnumerable<Callback>? callbacks = null, bool shuffle = true, Generator? generator = null, int verbose = 1, int initialEpoch = 0)
    {
        if (epochs < 0) throw new ArgumentException($"Fit: epochs must be non-negative, got {epochs}.");
        if (validationSplit > 0)
        {
            if (validationData is not null) throw new ArgumentException("Fit: give validationData or validationSplit, not both.");
            if (validationSplit >= 1) throw new ArgumentException($"Fit: validationSplit must be in [0, 1), got {validationSplit}.");
            // Keras takes the last fraction of the samples, before any shuffling.
            int nVal = (int)Math.Round(train.Count * validationSplit);
            var all = Enumerable.Range(0, train.Count).ToArray();
            validationData = train.Subset(all.AsSpan(train.Count - nVal));
            train = train.Subset(all.AsSpan(0, train.Count - nVal));
        }
        var loader = new DataLoader(train, batchSize, shuffle, shuffle ? generator ?? new Generator(0) : generator, device: Device,
            shard: Distributed is { } dp ? (dp.Rank, dp.Size) : null);
        Action<Batch> step = TrainStep;
        if (Distributed is { } parallel)
        {
            step = DistributedStep(parallel, loader);
            if (!parallel.Communicator.IsRoot) verbose = 0;   // progress from rank 0 only
        }
        return FitLoop<Batch>(epochs, loader.Count, loader.Epoch, step,
            validationData is null ? null : () => Evaluate(validationData, batchSize, verbose: 0), callbacks, verbose, initialEpoch);
    }

    /// <summary>Fit's epochs over any kind of batch: callbacks, progress, validation, history.</summary>
    private History FitLoop<TBatch>(int epochs, int batches, Func<IEnumerable<TBatch>> epochBatches, Action<TBatch> trainStep,
        Func<Dictionary<string, double>>? validate, IEnumerable<Callback>? callbacks, int verbose, int initialEpoch)
    {
        var cbs = (callbacks ?? []).ToList();
        foreach (var cb in cbs) cb.Trainer = this;
        var history = new History();
        StopTraining = false;
        foreach (var cb in cbs) cb.OnTrainBegin();
        for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
        {
            foreach (var cb in cbs) cb.OnEpochBegin(epoch);
            if (verbose > 0) Output.WriteLine($"Epoch {epoch + 1}/{epochs}");
            var logs = RunEpoch(batches, epochBatches(), trainStep, cbs, verbose, epoch, out var progress);
            if (Distributed is { } dp) logs = dp.Average(logs);   // the epoch over every rank's shard
            if (validate is not null)
                foreach (var (k, v) in validate()) logs["val_" + k] = v;
            progress?.Finish(logs);
            history.Add(epoch, logs);
            foreach (var cb in cbs) cb.OnEpochEnd(epoch, logs);
        }
        foreach (var cb in cbs) cb.OnTrainEnd();
        return history;
    }

    private Dictionary<string, double> RunEpoch<TBatch>(int batches, IEnumerable<TBatch> epochBatches, Action<TBatch> trainStep,
        List<Callback> cbs, int verbose, int epoch, out ProgressLine? progress)
    {
        Model.Train();
        var metrics = Metrics;   // once per epoch: custom trainers build the list on every call
        foreach (var m in metrics) m.Reset();
        progress = verbose > 0 ? new ProgressLine(Output, batches, LiveProgress) : null;
        int step = 0;
        var batchListeners = cbs.Where(cb => cb.ListensToBatches).ToList();
        // Training stops at the first NaN or infinity. On the CPU the running metrics are read after every step for
        // free; on a GPU that read would wait for the device, so they are checked where the loop reads them anyway.
        bool everyStep = Device.Type == DeviceType.Cpu;
        foreach (var batch in epochBatches)
        {
            // A step's temporaries are recycled for the next step (see TensorScope). No tensor of the step leaves it
            // (metrics and logs keep numbers), so the step also reuses the tensor objects: Fit allocates nothing per step.
            try
            {
                using (TensorScope.BeginRecycling()) trainStep(batch);
            }
            catch (AnomalyException e) { throw NonFinite.FromAnomaly(e, epoch + 1, step + 1, NonFiniteHint); }
            step++;
            if (everyStep)
                for (int i = 0; i < metrics.Count; i++)
                    if (metrics[i].Guarded) NonFinite.Check(metrics[i].Peek(), metrics[i].Name, epoch + 1, step, NonFiniteHint);
            // Reading metrics waits for the device, so logs are made only when something shows them.
            if (progress is { WantsUpdate: true }) progress.Update(step, CheckedLogs(metrics, epoch, step));
            if (batchListeners.Count > 0)
            {
                var batchLogs = CheckedLogs(metrics, epoch, step);
                foreach (var cb in batchListeners) cb.OnBatchEnd(step - 1, batchLogs);
            }
        }
        return CheckedLogs(metrics, epoch, step);
    }

    /// <summary>The metrics, checked: on a GPU a NaN is found here, somewhere in the steps since the last read.</summary>
    private Dictionary<string, double> CheckedLogs(IReadOnlyList<Metric> metrics, int epoch, int step)
    {
        var logs = Logs(metrics);
        foreach (var m in metrics)
            if (m.Guarded && !double.IsFinite(logs[m.Name]))
                throw new NonFiniteException(NonFinite.Message(m.Name, logs[m.Name], $"in epoch {epoch + 1}, by step {step}", NonFiniteHint));
        return logs;
    }

    private Dictionary<string, double> Logs() => Logs(Metrics);
    private static Dictionary<string, double> Logs(IReadOnlyList<Metric> metrics) => metrics.ToDictionary(m => m.Name, m => m.Result());

    /// <summary>Metrics over a dataset in eval mode (dropout off, running batch statistics), as a dictionary.</summary>
    public Dictionary<string, double> Evaluate(Dataset data, int batchSize = 32, int verbose = 1)
    {
        var loader = new DataLoader(data, batchSize, device: Device);
        return EvaluateLoop<Batch>(loader.Count, loader.Epoch(), TestStep, verbose);
    }

    private Dictionary<string, double> EvaluateLoop<TBatch>(int batches, IEnumerable<TBatch> epochBatches, Action<TBatch> testStep, int verbose)
    {
        bool wasTraining = Model.Training;
        Model.Eval();
        try
        {
            using var _ = new NoGrad();
            foreach (var m in Metrics) m.Reset();
            var progress = verbose > 0 ? new ProgressLine(Output, batches, LiveProgress) : null;
            int step = 0;
            foreach (var batch in epochBatches)
            {
                using (TensorScope.BeginRecycling()) testStep(batch);
                ++step;
                if (progress is { WantsUpdate: true }) progress.Update(step, Logs());
            }
            var logs = Logs();
            progress?.Finish(logs);
            return logs;
        }
        finally { Model.Train(wasTraining); }
    }

    /// <summary>Model outputs for every row of <paramref name="x"/>, computed in batches in eval mode.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        bool wasTraining = Model.Training;
        Model.Eval();
        try
        {
            using var _ = new NoGrad();
            var parts = new List<Tensor>();
            for (int start = 0; start < x.Shape[0]; start += batchSize)
            {
                // The batch's activations are recycled; only its output is kept.
                using var scope = TensorScope.Begin();
                var y = Model.Call(x.Narrow(0, start, Math.Min(batchSize, x.Shape[0] - start)).To(Device));
                using (TensorScope.Suspend()) parts.Add(y.Clone());
            }
            return parts.Count == 1 ? parts[0] : Tensor.Concat(parts, 0);
        }
        finally { Model.Train(wasTraining); }
    }
}
