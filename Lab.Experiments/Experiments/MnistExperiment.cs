using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Data.Files;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seed 001 exercise 10: the Keras tutorial CNN on 28x28 images, Adam, sparse cross-entropy, accuracy,
/// batch 32, 5 epochs, timed per epoch on the chosen device. Handwritten MNIST cannot be downloaded here;
/// by default the data is Fashion-MNIST (same format) from Debian's dataset-fashion-mnist, or any four IDX
/// files given with --data. `--synthetic` trains on random images of the same size, for timing only.
/// </summary>
public sealed class MnistExperiment : IExperiment
{
    /// <summary>Quick mode's images: a few batches, enough to exercise loading, training, timing and figures.</summary>
    public const int QuickTrain = 128, QuickTest = 64;

    public string Name => "mnist";
    public string Description => "Keras tutorial CNN on 28x28 IDX data (Fashion-MNIST by default), time per epoch and test accuracy";
    public static readonly Option<string> Data = Define.Text("--data", "DIR",
        "folder with train-/t10k- images and labels IDX files (.gz or plain)", FashionMnistFiles.DefaultDirectory);
    public static readonly Option<bool> Synthetic = Define.Flag("--synthetic", "random images and labels of the same size, for timing only (accuracy means nothing)");
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 32, min: 1);
    public IReadOnlyList<Option> Options => [Data, Synthetic, BatchSize];

    /// <summary>Wall time of every epoch (Fit's own work: batches, metrics, progress).</summary>
    public sealed class EpochTimer : Callback
    {
        private readonly Stopwatch _clock = new();
        public List<double> Seconds { get; } = [];
        public override void OnEpochBegin(int epoch) => _clock.Restart();
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => Seconds.Add(_clock.Elapsed.TotalSeconds);
    }

    public void Run(ExperimentContext ctx)
    {
        // Data: IDX files, or random images for timing.
        var (train, test, source) = Load(ctx);
        if (ctx.Quick)
        {
            train = train.Subset(Enumerable.Range(0, Math.Min(train.Count, QuickTrain)).ToArray());
            test = test.Subset(Enumerable.Range(0, Math.Min(test.Count, QuickTest)).ToArray());
        }
        ctx.Log($"{source}: {train.Count} training and {test.Count} test images, 28x28, on {ctx.Device}");

        // Model: Conv(32) -> pool -> Conv(64) -> pool -> Conv(64) -> Dense(64) -> Dense(10, softmax).
        var model = new MnistCnn(ctx.Rng(1));
        model.To(ctx.Device);
        ctx.Log(model.Summary(1, 1, 28, 28));
        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());

        var timer = new EpochTimer();
        var history = trainer.Fit(train, ctx.Epochs(5), ctx.Get(BatchSize),
            callbacks: [.. ctx.StandardCallbacks(), timer], generator: ctx.Rng(2));
        var clock = Stopwatch.StartNew();
        var result = trainer.Evaluate(test, 256);
        ctx.Metric("data", source);
        ctx.Metric("synthetic", ctx.Get(Synthetic));
        ctx.Metric("train_images", train.Count);
        ctx.Metric("test_images", test.Count);
        ctx.Metric("epoch_seconds", timer.Seconds);
        ctx.Metric("mean_epoch_seconds", timer.Seconds.Count == 0 ? 0 : timer.Seconds.Average());
        ctx.Metric("evaluate_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("test_accuracy", result["accuracy"]);
        ctx.Metric("test_loss", result["loss"]);
        ctx.WriteHistory(history);
        ctx.Log($"time per epoch {string.Join(", ", timer.Seconds.Select(s => $"{s:0.0}s"))} on {ctx.Device}; " +
                $"test accuracy {result["accuracy"]:0.0000}{(ctx.Get(Synthetic) ? " (random data: meaningless)" : "")}");

        var probabilities = trainer.Predict(test.FeaturesTensor().Narrow(0, 0, Math.Min(test.Count, 16)), 16).To(Device.Cpu);
        MnistFigures.Draw(ctx, test, probabilities, history, source);
    }

    private static (Dataset Train, Dataset Test, string Source) Load(ExperimentContext ctx)
    {
        if (ctx.Get(Synthetic))
        {
            if (ctx.Given(Data)) throw new UsageException("mnist: give --data DIR or --synthetic, not both.");
            var g = ctx.Rng(9);
            return (Random(g, ctx.Quick ? QuickTrain : 60000), Random(g, ctx.Quick ? QuickTest : 10000), "synthetic");
        }
        var dir = ctx.Get(Data);
        var files = FashionMnistFiles.TryLocate(out var reason, dir)
            ?? throw new UsageException($"mnist: {reason} Give --data DIR with the four IDX files " +
                "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz), " +
                "install Debian's dataset-fashion-mnist, or use --synthetic to time the model on random data.");
        var tr = files.LoadTrain();
        var te = files.LoadTest();
        if (tr.Rows != 28 || tr.Columns != 28 || te.Rows != 28 || te.Columns != 28)
            throw new UsageException($"mnist: expected 28x28 images in {dir}, got {tr.Rows}x{tr.Columns} and {te.Rows}x{te.Columns}.");
        return (Dataset.WithLabels(tr.Images, [1, 28, 28], tr.Labels), Dataset.WithLabels(te.Images, [1, 28, 28], te.Labels), dir);
    }

    private static Dataset Random(Generator g, int n)
    {
        var x = new float[n * 28 * 28];
        g.FillUniform(x);
        var y = new int[n];
        for (int i = 0; i < n; i++) y[i] = g.NextInt(10);
        return Dataset.WithLabels(x, [1, 28, 28], y);
    }
}
