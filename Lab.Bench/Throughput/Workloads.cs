using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Diagnostics;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tracing;
using Lab.Models;

namespace Lab.Bench.Throughput;

/// <summary>
/// One seed workload ready to step on a device: model, optimizer(s) and a small pool of batches already
/// resident there (synthetic values of the right shapes and ranges; speed does not depend on them).
/// </summary>
public abstract class WorkloadRun
{
    private readonly Tensor[] _inputs, _labels;
    private int _next;
    private Tensor? _lastLoss;

    protected WorkloadRun(Tensor[] inputs, Tensor[] labels) => (_inputs, _labels) = (inputs, labels);

    /// <summary>The batches the steps cycle through, resident on the device.</summary>
    public IReadOnlyList<Tensor> Inputs => _inputs;

    /// <summary>The models the step trains (the profile reads their layers).</summary>
    public abstract IReadOnlyList<Module> Models { get; }

    /// <summary>The optimizers the step updates (the distributed bench attaches them to a DataParallel).</summary>
    public virtual IReadOnlyList<Optimizer> Optimizers => [];

    /// <summary>One step as the seed defines it: one optimizer update (the GAN: 5 D updates and 1 G update).</summary>
    public void Step()
    {
        int i = _next;
        _next = (_next + 1) % _inputs.Length;
        // As in Trainer.Fit: the step's temporaries and tensor objects are recycled for the next step (TensorScope), and
        // the loss is copied out, on the device, before they are.
        using var scope = TensorScope.BeginRecycling();
        var loss = Step(_inputs[i], _labels.Length > 0 ? _labels[i] : null);
        if (_lastLoss is null || _lastLoss.Device != loss.Device)
            using (TensorScope.Suspend()) _lastLoss = Tensor.Zeros([1], loss.Device);
        _lastLoss.CopyFrom(loss.Detach().Reshape(1));
    }

    protected abstract Tensor Step(Tensor x, Tensor? labels);

    private TracedStep? _trace;
    private Tensor[][]? _traceInputs;

    /// <summary>
    /// <see cref="Step()"/> through a <see cref="Lab.Core.Tracing.TracedStep"/> over the same step definition: the first
    /// call runs eagerly, the second records, later ones replay the planned op list (the "GenLab traced" column).
    /// </summary>
    public void StepTraced()
    {
        int i = _next;
        _next = (_next + 1) % _inputs.Length;
        _trace ??= Lab.Core.Tracing.TracedStep.Create(GetType().Name, inputs => [Step(inputs[0], inputs.Length > 1 ? inputs[1] : null)]);
        // One input array per batch, made once, so that a replay allocates nothing.
        _traceInputs ??= [.. _inputs.Select((x, k) => _labels.Length > 0 ? new[] { x, _labels[k] } : [x])];
        var loss = _trace.Run(_traceInputs[i])[0];
        using var scope = TensorScope.BeginRecycling();
        if (_lastLoss is null || _lastLoss.Device != loss.Device)
            using (TensorScope.Suspend()) _lastLoss = Tensor.Zeros([1], loss.Device);
        _lastLoss.CopyFrom(loss.Reshape(1));
    }

    /// <summary>The traced step, once <see cref="StepTraced"/> has run (its counts and planned op list).</summary>
    public TracedStep? Trace => _trace;

    /// <summary>Waits for the device by reading the last loss back (a no-op wait on the CPU).</summary>
    public float Sync() => _lastLoss?.Item() ?? 0f;
}

/// <summary>The six seed workloads (issue 6) and the sequence experiment's LSTM (issue 14): names, batch sizes and step definitions.</summary>
public sealed record Workload(string Name, int DefaultBatch, string Description, Func<Device, int, WorkloadRun> Create)
{
    /// <summary>Images (or points) consumed per step: the batch, times the discriminator updates for the GAN.</summary>
    public int ImagesPerStep(int batch) => Name.StartsWith("gan", StringComparison.Ordinal) ? batch * GanRun.DiscriminatorUpdates : batch;

    /// <summary>Batches kept resident on the device and cycled through.</summary>
    public const int Pool = 8;

    public static readonly Workload[] All =
    [
        new("toy_mlp_b10", 10, "ToyMlp 2-10-8-5, softmax + sparse CE, Adam(1e-3, eps 1e-7)", (d, b) => SupervisedRun.Classifier(new ToyMlp(new Generator(1)), d, b, [2], 5)),
        new("digits_cnn_b10", 10, "DigitsCnn on 8x8, softmax + sparse CE, Adam(1e-3, eps 1e-7)", (d, b) => SupervisedRun.Classifier(new DigitsCnn(new Generator(1)), d, b, [1, 8, 8], 10)),
        new("vae_digits_b16", 16, "Vae latent 10, KL + MSE/(2T), T=0.01, Adam(1e-3, eps 1e-7)", (d, b) => new VaeRun(d, b)),
        new("gan_digits_b16_d5", 16, "GAN, 5 D updates (G in inference mode) + 1 G update, two Adam(1e-3, eps 1e-7)", (d, b) => new GanRun(d, b)),
        new("score_toy_b16", 16, "ScoreMlp 2-32-32-2 softplus, exact Jacobian-trace loss, Adam(1e-2, eps 1e-7)", (d, b) => new ScoreRun(d, b)),
        new("mnist_cnn_b32", 32, "MnistCnn on 28x28, softmax + sparse CE, Adam(1e-3, eps 1e-7)", (d, b) => SupervisedRun.Classifier(new MnistCnn(new Generator(1)), d, b, [1, 28, 28], 10)),
        new("lstm_adding_b32_t200", 32, $"the sequence experiment's LSTM({AddingModels.StudyUnits}) + Dense(1) on the adding problem, T=200, MSE, Adam({AddingModels.LearningRate}, eps 1e-7)",
            (d, b) => SupervisedRun.Adding(AddingModels.Lstm, AddingModels.StudyUnits, 200, d, b)),
        new("attention_dates_b32", 32, "AttentionTranslator (attention experiment: source 28, target 10, 49 ids; embedding 32, BiLSTM 2x64, LSTM 128, " +
            "Dense tanh 128), per-character sparse CE, Adam(3e-3, eps 1e-7)", (d, b) => new AttentionRun(d, b)),
    ];

    public static Workload Find(string name) =>
        All.FirstOrDefault(w => w.Name == name)
        ?? throw new ArgumentException($"Unknown workload '{name}'; expected one of {string.Join(", ", All.Select(w => w.Name))}.");

    internal static Tensor[] Images(Generator g, Device d, int batch, int[] shape) =>
        Enumerable.Range(0, Pool).Select(_ => Tensor.Rand(g, [batch, .. shape], device: d)).ToArray();

    internal static Tensor[] Points(Generator g, Device d, int batch) =>
        Enumerable.Range(0, Pool).Select(_ => Tensor.RandN(g, [batch, 2], device: d)).ToArray();

    internal static Tensor[] Labels(Device d, int batch, int classes) =>
        Enumerable.Range(0, Pool).Select(p => Tensor.FromArray(
            Enumerable.Range(0, batch).Select(i => (float)((i * 7 + p) % classes)).ToArray(), [batch], d)).ToArray();
}

/// <summary>
/// One model, Adam and a loss on a pool of (x, y) batches: the classifiers (toy_mlp, digits_cnn, mnist_cnn: softmax output,
/// Keras's sparse cross-entropy on probabilities) and lstm_adding (the sequence experiment's model on the adding problem,
/// MSE, Adam at the experiment's rate), one optimizer update per step.
/// </summary>
internal sealed class SupervisedRun : WorkloadRun
{
    private readonly Module _model;
    private readonly Adam _opt;
    private readonly Func<Tensor, Tensor, Tensor> _loss;

    private SupervisedRun(Module model, Device d, Tensor[] x, Tensor[] y, Func<Tensor, Tensor, Tensor> loss, float lr) : base(x, y)
    {
        _model = model;
        _model.To(d);
        _opt = new Adam(_model.Parameters(), lr: lr);
        _loss = loss;
    }

    public static SupervisedRun Classifier(Module model, Device d, int batch, int[] inputShape, int classes) =>
        new(model, d, inputShape.Length == 1 ? Workload.Points(new Generator(2), d, batch) : Workload.Images(new Generator(2), d, batch, inputShape),
            Workload.Labels(d, batch, classes), static (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), lr: 1e-3f);

    /// <summary>The adding problem at <paramref name="length"/> steps, with the experiment's data generator and model.</summary>
    public static SupervisedRun Adding(string kind, int units, int length, Device d, int batch)
    {
        var g = new Generator(2);
        var batches = Enumerable.Range(0, Workload.Pool).Select(_ => AddingProblem.Sample(g, batch, length, d)).ToArray();
        return new(AddingModels.Create(kind, units, new Generator(1)), d, batches.Select(b => b.X).ToArray(), batches.Select(b => b.Y).ToArray(),
            static (p, y) => Losses.Mse(p, y), lr: AddingModels.LearningRate);
    }

    public override IReadOnlyList<Module> Models => [_model];

    public override IReadOnlyList<Optimizer> Optimizers => [_opt];

    protected override Tensor Step(Tensor x, Tensor? y)
    {
        ProfilePhase.ZeroGrad(_opt);
        Tensor loss;
        using (new ProfilePhase("forward", "loss"))
            loss = _loss(_model.Call(x), y!);
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(_opt);
        return loss;
    }
}

/// <summary>vae_digits: the vae experiment's step (<see cref="VaeTrainer.Step"/>), T = 0.01.</summary>
internal sealed class VaeRun : WorkloadRun
{
    private readonly Vae _vae;
    private readonly VaeTrainer _trainer;

    public VaeRun(Device d, int batch) : base(Workload.Images(new Generator(2), d, batch, [1, 8, 8]), [])
    {
        _vae = new Vae(generator: new Generator(1));
        _vae.To(d);
        _trainer = new VaeTrainer(_vae, temperature: 0.01f, new Generator(3));
    }

    public override IReadOnlyList<Module> Models => [_vae];

    public override IReadOnlyList<Optimizer> Optimizers => _trainer.Optimizers;
    protected override Tensor Step(Tensor x, Tensor? _) => _trainer.Step(x).Loss;
}

/// <summary>gan_digits: the gan experiment's step (<see cref="GanTrainer.Step"/>): 5 discriminator updates on fakes from the generator in inference mode, then 1 generator update.</summary>
internal sealed class GanRun : WorkloadRun
{
    public const int DiscriminatorUpdates = 5;
    private readonly Gan _gan;
    private readonly GanTrainer _trainer;

    public GanRun(Device d, int batch) : base(Workload.Images(new Generator(2), d, batch, [1, 8, 8]), [])
    {
        _gan = new Gan(generator: new Generator(1));
        _gan.To(d);
        _trainer = new GanTrainer(_gan, DiscriminatorUpdates, new Generator(3));
    }

    public override IReadOnlyList<Module> Models => [_gan.Generator, _gan.Discriminator];

    public override IReadOnlyList<Optimizer> Optimizers => _trainer.Optimizers;
    protected override Tensor Step(Tensor real, Tensor? _) => _trainer.Step(real).GLoss;
}

/// <summary>score_toy: the score experiment's step (<see cref="ScoreTrainer.Step"/>): Hyvärinen's implicit loss with the exact Jacobian trace (second-order), Adam(1e-2).</summary>
internal sealed class ScoreRun : WorkloadRun
{
    private readonly ScoreMlp _model;
    private readonly ScoreTrainer _trainer;

    public ScoreRun(Device d, int batch) : base(Workload.Points(new Generator(2), d, batch), [])
    {
        _model = new ScoreMlp(new Generator(1));
        _model.To(d);
        _trainer = new ScoreTrainer(_model, lr: 1e-2f, projections: null);
    }

    public override IReadOnlyList<Module> Models => [_model];

    public override IReadOnlyList<Optimizer> Optimizers => _trainer.Optimizers;
    protected override Tensor Step(Tensor x, Tensor? _) => _trainer.Step(x);
}

/// <summary>
/// attention_dates: the attention experiment's step on its default sizes: source ids [B, 28] (5 to 28 characters, then
/// padding), decoder input and target ids [B, 10], a vocabulary of 49 ids (48 characters and padding).
/// </summary>
internal sealed class AttentionRun : WorkloadRun
{
    public const int Vocabulary = 49, SourceLength = 28, TargetLength = 10;
    private readonly AttentionTranslator _translator;
    private readonly Adam _opt;
    private readonly Tensor[] _inputs = new Tensor[2], _outputs = new Tensor[1];

    public AttentionRun(Device d, int batch) : base(Pairs(new Generator(2), d, batch), Targets(new Generator(3), d, batch))
    {
        _translator = new AttentionTranslator(Vocabulary, SourceLength, TargetLength, generator: new Generator(1));
        _translator.Model.To(d);
        _opt = new Adam(_translator.Model.Parameters(), lr: 3e-3f);
    }

    public override IReadOnlyList<Module> Models => [_translator.Model];

    /// <summary>Source and decoder input side by side in one tensor [B, 28 + 10] (a workload's batch is one tensor).</summary>
    private static Tensor[] Pairs(Generator g, Device d, int batch) => [.. Enumerable.Range(0, Workload.Pool).Select(_ =>
    {
        var ids = new float[batch * (SourceLength + TargetLength)];
        for (int b = 0; b < batch; b++)
        {
            int length = 5 + g.NextInt(SourceLength - 4);
            for (int s = 0; s < SourceLength + TargetLength; s++)
                ids[b * (SourceLength + TargetLength) + s] = s < length || s >= SourceLength ? 1 + g.NextInt(Vocabulary - 1) : 0;
        }
        return Tensor.FromArray(ids, [batch, SourceLength + TargetLength], d);
    })];

    private static Tensor[] Targets(Generator g, Device d, int batch) => [.. Enumerable.Range(0, Workload.Pool).Select(_ =>
        Tensor.FromArray(Enumerable.Range(0, batch * TargetLength).Select(_ => (float)(1 + g.NextInt(Vocabulary - 1))).ToArray(), [batch, TargetLength], d))];

    protected override Tensor Step(Tensor x, Tensor? y)
    {
        ProfilePhase.ZeroGrad(_opt);
        Tensor loss;
        using (new ProfilePhase("forward", "loss"))
        {
            (_inputs[0], _inputs[1]) = (x.Narrow(1, 0, SourceLength), x.Narrow(1, SourceLength, TargetLength));
            _translator.Model.Run(_inputs, _outputs);   // Call without its output array: a step allocates nothing
            loss = AttentionTranslator.Loss(_outputs[0], y!);
        }
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(_opt);
        return loss;
    }
}
