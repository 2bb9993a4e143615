using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seeds 000/001, exercise 1: a 163-parameter MLP classifies a 5-Gaussian mixture. Keras-style Fit by
/// default, or the explicit loop of the TensorFlow/PyTorch/JAX sections; `--task regression` fits seed
/// 000's noisy sine instead.
/// </summary>
public sealed class ToyExperiment : IExperiment
{
    public string Name => "toy";
    public string Description => "toy 2-D mixture classifier (163 parameters): Keras-style Fit or explicit loop; noisy-sin regression";
    public static readonly Option<string> Loop = Define.Choice("--loop", "training style", ["keras", "explicit"]);
    public static readonly Option<string> Task = Define.Choice("--task", "what to fit", ["classification", "regression"]);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 10, min: 1);
    public IReadOnlyList<Option> Options => [Loop, Task, BatchSize];

    public void Run(ExperimentContext ctx)
    {
        bool explicitLoop = ctx.Get(Loop) == "explicit";
        if (ctx.Get(Task) == "regression")
        {
            if (explicitLoop) throw new UsageException("toy: --loop explicit trains the classifier; --task regression always uses Fit.");
            RunRegression(ctx);
            return;
        }

        // Data: the seeds' ToyDataGenerator, 3000 training points then the next 300 for testing.
        var toy = new ToyData(seed: 3);
        var train = toy.Sample(ctx.Quick ? 500 : 3000);
        var test = toy.Sample(300);

        // Model: Dense(2->10, relu) -> Dense(10->8, relu) -> Dense(8->5, softmax).
        var model = new ToyMlp(ctx.Rng(1));
        model.To(ctx.Device);
        ctx.Log(model.Summary(1, 2));

        int epochs = ctx.Epochs(5), batch = ctx.Get(BatchSize);
        var adam = new Adam(model.Parameters());
        Tensor Loss(Tensor p, Tensor y) => Losses.SparseCategoricalCrossEntropy(p, y);
        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        trainer.Compile(adam, Loss, new SparseCategoricalAccuracy());

        var clock = Stopwatch.StartNew();
        History history = explicitLoop
            ? ExplicitLoop(ctx, model, adam, Loss, train, epochs, batch)
            : trainer.Fit(train, epochs, batch, callbacks: ctx.StandardCallbacks(), generator: ctx.Rng(2));
        ctx.Metric("train_seconds", clock.Elapsed.TotalSeconds);

        var result = trainer.Evaluate(test);
        ctx.Metric("test_accuracy", result["accuracy"]);
        ctx.Metric("test_loss", result["loss"]);
        ctx.Metric("parameters", model.ParameterCount());
        ctx.WriteHistory(history);
        ctx.Log($"test accuracy {result["accuracy"]:0.0000}, test loss {result["loss"]:0.0000}");
        ToyFigures.Classification(ctx, model, train, test, history);
    }

    /// <summary>The loop written out, as in the notes' TensorFlow/PyTorch/JAX sections: one line per epoch.</summary>
    private static History ExplicitLoop(ExperimentContext ctx, Module model, Optimizer optimizer,
        Func<Tensor, Tensor, Tensor> lossFn, Dataset train, int epochs, int batchSize)
    {
        var loader = new DataLoader(train, batchSize, shuffle: true, generator: ctx.Rng(2), device: ctx.Device);
        var history = new History();
        var hint = ctx.NonFiniteHint();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            model.Train();
            double lossSum = 0, correct = 0;
            int step = 0;
            foreach (var batch in loader.Epoch())
            {
                using var scope = TensorScope.Begin();   // the step's tensors are recycled for the next one
                optimizer.ZeroGrad();
                var p = model.Call(batch.X);
                var loss = lossFn(p, batch.Y);
                loss.Backward();
                optimizer.Step();
                float value = loss.Item();
                NonFinite.Check(value, "loss", epoch + 1, ++step, hint);
                lossSum += value * batch.Size;
                correct += p.ArgMax(1).Eq(batch.Y).Sum().Item();
            }
            var logs = new Dictionary<string, double> { ["loss"] = lossSum / train.Count, ["accuracy"] = correct / train.Count };
            history.Add(epoch, logs);
            ctx.Log($"epoch {epoch + 1}/{epochs}: loss {logs["loss"]:0.0000}, accuracy {logs["accuracy"]:0.0000}");
        }
        return history;
    }

    private static void RunRegression(ExperimentContext ctx)
    {
        var data = new NoisySin(seed: 1);
        var train = data.Sample(ctx.Quick ? 500 : 3000);
        var test = data.Sample(300);
        var model = new RegressionMlp(ctx.Rng(1));
        model.To(ctx.Device);
        ctx.Log(model.Summary(1, 1));
        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.Mse(p, y), new Core.Training.MeanSquaredError());
        var history = trainer.Fit(train, ctx.Epochs(5), ctx.Get(BatchSize), callbacks: ctx.StandardCallbacks(), generator: ctx.Rng(2));
        var result = trainer.Evaluate(test);
        ctx.Metric("test_loss", result["loss"]);
        ctx.Metric("test_mse", result["mse"]);
        ctx.WriteHistory(history);
        ctx.Log($"test mse {result["mse"]:0.0000}");
        ToyFigures.Regression(ctx, trainer, train, history);
    }
}
