using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seed 001 exercises 1, 3, 4, 6, 8: the digits CNN on a seeded 80/20 split, Adam, batch 10, 10 epochs.
/// By default trained the way exercises 3 and 4 ask: a custom training step with its own metrics
/// (My_loss, My_accuracy) driving Fit, and a custom test step so that Evaluate returns them.
/// `--style keras` uses Compile/Fit with the built-in loss and accuracy instead.
/// </summary>
public sealed class DigitsExperiment : IDataParallelExperiment
{
    public string Name => "digits";
    public string Description => "digits CNN (8x8): custom train/test steps with My_loss/My_accuracy, or Keras Compile/Fit";
    public static readonly Option<string> Style = Define.Choice("--style", "training style", ["custom", "keras"]);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 10, min: 1);
    public IReadOnlyList<Option> Options => [Style, BatchSize];

    /// <summary>Exercise 3/4: the step written by hand, with metrics of its own.</summary>
    public sealed class CustomStepTrainer(DigitsCnn model) : Trainer(model)
    {
        private readonly Adam _adam = new(model.Parameters());
        public Mean MyLoss { get; } = new("My_loss");
        public Mean MyAccuracy { get; } = new("My_accuracy");
        public override IReadOnlyList<Metric> Metrics => [MyLoss, MyAccuracy];
        public new Optimizer Optimizer => _adam;
        public override IReadOnlyList<Optimizer> Optimizers => [_adam];

        protected override void TrainStep(Batch batch)
        {
            _adam.ZeroGrad();
            var probabilities = Model.Call(batch.X);
            var loss = Losses.SparseCategoricalCrossEntropy(probabilities, batch.Y);
            loss.Backward();
            _adam.Step();
            Track(probabilities, loss, batch);
        }

        protected override void TestStep(Batch batch)
        {
            var probabilities = Model.Call(batch.X);
            Track(probabilities, Losses.SparseCategoricalCrossEntropy(probabilities, batch.Y), batch);
        }

        private void Track(Tensor probabilities, Tensor loss, Batch batch)
        {
            using var _ = new NoGrad();
            MyLoss.Update(loss, batch.Size);
            MyAccuracy.Update(probabilities.ArgMax(1).Eq(batch.Y).Mean(), batch.Size);
        }
    }

    public void Run(ExperimentContext ctx)
    {
        // Data: the 1797 digits, pixels / 16, a seeded 80/20 split.
        var (train, test) = DigitsSource.Split(ctx.Seed);
        if (ctx.Quick) train = train.Subset(Enumerable.Range(0, 200).ToArray());
        ctx.Log($"digits: {train.Count} training and {test.Count} held-out images");

        var model = new DigitsCnn(ctx.Rng(1));
        model.To(ctx.Device);
        ctx.Log(model.Summary(1, 1, 8, 8));
        int epochs = ctx.Epochs(10), batch = ctx.Get(BatchSize);

        Trainer trainer;
        string lossKey, accuracyKey;
        if (ctx.Get(Style) == "keras")
        {
            trainer = new Trainer(model) { Output = ctx.Output };
            trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
            (lossKey, accuracyKey) = ("loss", "accuracy");
        }
        else
        {
            trainer = new CustomStepTrainer(model) { Output = ctx.Output };
            (lossKey, accuracyKey) = ("My_loss", "My_accuracy");
        }
        trainer.NonFiniteHint = ctx.NonFiniteHint();
        trainer.Distributed = ctx.DataParallel;   // --distributed: the batch of --batch-size shared by the ranks
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, epochs, batch, callbacks: ctx.StandardCallbacks(), generator: ctx.Rng(2));
        ctx.Metric("train_seconds", clock.Elapsed.TotalSeconds);

        var result = trainer.Evaluate(test);
        ctx.Log("evaluate: " + string.Join(", ", result.Select(kv => $"{kv.Key} = {kv.Value:0.0000}")));
        ctx.Metric("evaluate", result);
        ctx.Metric("train_accuracy", history[accuracyKey][^1]);
        ctx.Metric("test_accuracy", result[accuracyKey]);
        ctx.Metric("test_loss", result[lossKey]);
        ctx.WriteHistory(history);
        Checkpoint.Save(ctx.PathFor("checkpoints/digits_cnn.ckpt"), model, info: new CheckpointInfo { Epoch = epochs });

        var probabilities = trainer.Predict(test.FeaturesTensor(), 64).To(Device.Cpu);
        DigitsFigures.Draw(ctx, test, probabilities, history, accuracyKey, lossKey);
    }
}
