using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Optim;

namespace Lab.Core.Training;

/// <summary>
/// Keras's compile/fit for a functional <see cref="Nn.Model"/> with several inputs and outputs: a loss, a loss weight
/// and metrics per output (by output name, or in output order), the weighted sum minimised. The logs read as Keras's:
/// "loss" (the weighted total), "&lt;output&gt;_loss" and "&lt;output&gt;_&lt;metric&gt;" per output when there are several,
/// "val_" before each for validation data.
/// </summary>
public partial class Trainer
{
    /// <summary>One model output as compiled: its loss (none: not trained), weight, loss tracker and metrics.</summary>
    private sealed record Head(int Index, Func<Tensor, Tensor, Tensor>? Loss, float Weight, Mean? Tracker, Metric[] Metrics);

    private Head[]? _heads;
    private Tensor[] _predictions = [];
    private readonly Tensor[] _oneX = new Tensor[1], _oneY = new Tensor[1];

    /// <summary>Losses, loss weights (1 where not given) and metrics keyed by the model's output names.</summary>
    public void Compile(Optimizer optimizer, IReadOnlyDictionary<string, Func<Tensor, Tensor, Tensor>> losses,
        IReadOnlyDictionary<string, float>? lossWeights = null, IReadOnlyDictionary<string, Metric[]>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(losses);
        var model = FunctionalModel("Compile");
        var names = model.OutputNames;
        void CheckKeys(IEnumerable<string> keys, string what)
        {
            foreach (var k in keys)
                if (!names.Contains(k))
                    throw new ArgumentException($"Compile: {what} for '{k}', which is not an output of model '{model.Name}' (outputs: {string.Join(", ", names)}).");
        }
        CheckKeys(losses.Keys, "a loss");
        CheckKeys(lossWeights?.Keys ?? [], "a loss weight");
        CheckKeys(metrics?.Keys ?? [], "metrics");
        if (losses.Count == 0) throw new ArgumentException($"Compile: no loss for any output of model '{model.Name}' ({string.Join(", ", names)}).");
        bool several = names.Count > 1;
        var heads = new Head[names.Count];
        _compiled.Clear();
        for (int i = 0; i < heads.Length; i++)
        {
            string name = names[i];
            var loss = losses.GetValueOrDefault(name);
            float weight = lossWeights?.GetValueOrDefault(name, 1f) ?? 1f;
            if (!float.IsFinite(weight) || weight < 0) throw new ArgumentException($"Compile: the loss weight of '{name}' must be finite and non-negative, got {weight}.");
            var tracker = several && loss is not null ? new Mean($"{name}_loss") : null;
            var own = (metrics?.GetValueOrDefault(name) ?? []).Select(m => several ? new OutputMetric(name, m) : m).ToArray();
            heads[i] = new Head(i, loss, weight, tracker, own);
            if (tracker is not null) _compiled.Add(tracker);
        }
        foreach (var h in heads) _compiled.AddRange(h.Metrics);   // Keras's order: the losses, then the metrics
        Optimizer = optimizer;
        Loss = null;
        _heads = heads;
        _predictions = new Tensor[heads.Length];
    }

    /// <summary>One loss per output in the model's output order (null: that output is not trained), with weights and metrics likewise.</summary>
    public void Compile(Optimizer optimizer, IReadOnlyList<Func<Tensor, Tensor, Tensor>?> losses,
        IReadOnlyList<float>? lossWeights = null, IReadOnlyList<Metric[]>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(losses);
        var names = FunctionalModel("Compile").OutputNames;
        void CheckCount(int count, string what)
        {
            if (count != names.Count)
                throw new ArgumentException($"Compile: {count} {what} for {names.Count} outputs ({string.Join(", ", names)}); give one per output, or a dictionary by name.");
        }
        CheckCount(losses.Count, "losses");
        if (lossWeights is not null) CheckCount(lossWeights.Count, "loss weights");
        if (metrics is not null) CheckCount(metrics.Count, "metric lists");
        Compile(optimizer,
            names.Select((n, i) => (n, l: losses[i])).Where(p => p.l is not null).ToDictionary(p => p.n, p => p.l!),
            lossWeights is null ? null : names.Select((n, i) => (n, w: lossWeights[i])).ToDictionary(p => p.n, p => p.w),
            metrics is null ? null : names.Select((n, i) => (n, m: metrics[i])).ToDictionary(p => p.n, p => p.m));
    }

    private Nn.Model FunctionalModel(string who) => Model as Nn.Model
        ?? throw new InvalidOperationException($"Trainer.{who}: a loss per output needs a functional Model; this trainer's model is a {Model.GetType().Name}.");

    private (Optimizer Optimizer, Head[] Heads, Nn.Model Model) RequireHeads() =>
        Optimizer is null || _heads is null
            ? throw new InvalidOperationException("Trainer: call Compile(optimizer, losses per output ...) before fitting or evaluating a MultiDataset.")
            : (Optimizer, _heads, FunctionalModel("Fit"));

    /// <summary>One optimisation step on a batch of several inputs and targets: the weighted sum of the outputs' losses.</summary>
    protected virtual void TrainStep(MultiBatch batch)
    {
        var (optimizer, heads, model) = RequireHeads();
        optimizer.ZeroGrad();
        model.Run(batch.Inputs, _predictions);
        var total = TotalLoss(heads, batch);
        total.Backward();
        optimizer.Step();
        LossTracker.Update(total.Detach(), batch.Size);
        using var _ = new NoGrad();
        foreach (var h in heads)
            foreach (var m in h.Metrics) m.Update(batch.Targets[h.Index], _predictions[h.Index].Detach());
    }

    /// <summary>One evaluation step on a batch of several inputs and targets.</summary>
    protected virtual void TestStep(MultiBatch batch)
    {
        var (_, heads, model) = RequireHeads();
        model.Run(batch.Inputs, _predictions);
        LossTracker.Update(TotalLoss(heads, batch), batch.Size);
        foreach (var h in heads)
            foreach (var m in h.Metrics) m.Update(batch.Targets[h.Index], _predictions[h.Index]);
    }

    private Tensor TotalLoss(Head[] heads, MultiBatch batch)
    {
        if (batch.Targets.Length != heads.Length)
            throw new ArgumentException($"Trainer: the batch has {batch.Targets.Length} targets for {heads.Length} outputs.");
        Tensor? total = null;
        foreach (var h in heads)
        {
            if (h.Loss is null) continue;
            var l = h.Loss(_predictions[h.Index], batch.Targets[h.Index]);
            h.Tracker?.Update(l.Detach(), batch.Size);
            var weighted = h.Weight == 1 ? l : l * h.Weight;
            total = total is null ? weighted : total + weighted;
        }
        return total!;
    }

    /// <summary>A plain dataset's batch for a trainer compiled per output: the model must have one input and one output.</summary>
    private MultiBatch AsMulti(Batch batch)
    {
        var model = FunctionalModel("Fit");
        if (model.Inputs.Count != 1 || model.Outputs.Count != 1)
            throw new InvalidOperationException($"Trainer: model '{model.Name}' has {model.Inputs.Count} inputs and {model.Outputs.Count} outputs; fit a MultiDataset.");
        (_oneX[0], _oneY[0]) = (batch.X, batch.Y);
        return new MultiBatch(_oneX, _oneY, batch.Size, batch.Index);
    }

    /// <summary>Keras's fit on several inputs and targets, matched to the model's inputs and outputs by name or position.</summary>
    public History Fit(MultiDataset train, int epochs, int batchSize = 32, MultiDataset? validationData = null, double validationSplit = 0,
        IEnumerable<Callback>? callbacks = null, bool shuffle = true, Generator? generator = null, int verbose = 1, int initialEpoch = 0)
    {
        if (epochs < 0) throw new ArgumentException($"Fit: epochs must be non-negative, got {epochs}.");
        if (Distributed is not null)
            throw new NotSupportedException("Fit: data-parallel training (Distributed) shards a Dataset; a MultiDataset (several inputs or outputs) is not sharded yet.");
        var model = RequireHeads().Model;
        train = train.Arrange(model.InputNames, model.OutputNames);
        validationData = validationData?.Arrange(model.InputNames, model.OutputNames);
        if (validationSplit > 0)
        {
            if (validationData is not null) throw new ArgumentException("Fit: give validationData or validationSplit, not both.");
            if (validationSplit >= 1) throw new ArgumentException($"Fit: validationSplit must be in [0, 1), got {validationSplit}.");
            int nVal = (int)Math.Round(train.Count * validationSplit);   // Keras: the last samples, before shuffling
            var all = Enumerable.Range(0, train.Count).ToArray();
            validationData = train.Subset(all.AsSpan(train.Count - nVal));
            train = train.Subset(all.AsSpan(0, train.Count - nVal));
        }
        var loader = new MultiDataLoader(train, batchSize, shuffle, shuffle ? generator ?? new Generator(0) : generator, Device);
        var validation = validationData;
        return FitLoop<MultiBatch>(epochs, loader.Count, loader.Epoch, TrainStep,
            validation is null ? null : () => EvaluateArranged(validation, batchSize, verbose: 0), callbacks, verbose, initialEpoch);
    }

    /// <summary>The compiled losses and metrics over a dataset of several inputs and targets, in eval mode.</summary>
    public Dictionary<string, double> Evaluate(MultiDataset data, int batchSize = 32, int verbose = 1)
    {
        var model = RequireHeads().Model;
        return EvaluateArranged(data.Arrange(model.InputNames, model.OutputNames), batchSize, verbose);
    }

    private Dictionary<string, double> EvaluateArranged(MultiDataset data, int batchSize, int verbose)
    {
        var loader = new MultiDataLoader(data, batchSize, device: Device);
        return EvaluateLoop<MultiBatch>(loader.Count, loader.Epoch(), TestStep, verbose);
    }

    /// <summary>A functional model's outputs for every row of its inputs (in the model's input order), in batches, in eval mode.</summary>
    public Tensor[] Predict(IReadOnlyList<Tensor> inputs, int batchSize = 32)
    {
        var model = FunctionalModel("Predict");
        if (inputs.Count != model.Inputs.Count)
            throw new ArgumentException($"Predict: model '{model.Name}' takes {model.Inputs.Count} inputs ({string.Join(", ", model.InputNames)}), got {inputs.Count}.");
        if (batchSize < 1) throw new ArgumentException($"Predict: batch size must be positive, got {batchSize}.");
        int n = inputs[0].Shape[0];
        if (inputs.Any(x => x.Rank == 0 || x.Shape[0] != n))
            throw new ArgumentException($"Predict: every input needs the same number of rows, got {string.Join(", ", inputs.Select(x => ShapeUtil.Format(x.Shape)))}.");
        bool wasTraining = Model.Training;
        Model.Eval();
        try
        {
            using var _ = new NoGrad();
            var parts = model.Outputs.Select(_ => new List<Tensor>()).ToArray();
            var slice = new Tensor[inputs.Count];
            var outs = new Tensor[model.Outputs.Count];
            for (int start = 0; start < n; start += batchSize)
            {
                using var scope = TensorScope.Begin();   // the batch's activations are recycled; only the outputs are kept
                for (int i = 0; i < slice.Length; i++) slice[i] = inputs[i].Narrow(0, start, Math.Min(batchSize, n - start)).To(Device);
                model.Run(slice, outs);
                using (TensorScope.Suspend())
                    for (int o = 0; o < outs.Length; o++) parts[o].Add(outs[o].Clone());
            }
            return [.. parts.Select(p => p.Count == 1 ? p[0] : Tensor.Concat(p, 0))];
        }
        finally { Model.Train(wasTraining); }
    }
}

/// <summary>A metric of one output of several, named as Keras names it: "&lt;output&gt;_&lt;metric&gt;".</summary>
internal sealed class OutputMetric(string output, Metric inner) : Metric($"{output}_{inner.Name}")
{
    public override void Update(Tensor yTrue, Tensor yPred) => inner.Update(yTrue, yPred);
    public override double Result() => inner.Result();
    public override void Reset() => inner.Reset();
    internal override bool Guarded => inner.Guarded;
    internal override double Peek() => inner.Peek();
}
