using System.CommandLine;
using Lab.Core;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Notebook 004's recurrent layers at work: why the LSTM replaced the simple RNN. The adding problem (Hochreiter &amp;
/// Schmidhuber 1997): sequences of T steps (a value and a marker), the target the sum of the two marked values, one
/// marked step in each half. SimpleRNN, LSTM, GRU and a bidirectional LSTM of about the same parameter count train with
/// the same data, steps and optimizer at each length; predicting the mean scores MSE 1/6 ≈ 0.167, the line to beat.
/// </summary>
public sealed class SequenceExperiment : IExperiment
{
    public string Name => "sequence";
    public string Description => "adding problem: SimpleRNN, LSTM, GRU and bidirectional LSTM of equal size at each length (test MSE against steps, beside the 0.167 of predicting the mean)";

    /// <summary>The recipes: the default (also `all`'s, about a minute on two cores) and the full study of --long.</summary>
    private sealed record Recipe(int[] Lengths, int Units, int Epochs, int TrainSize);
    private static readonly Recipe Default = new([20, 50], 16, 8, 4096), Long = new([50, 200], AddingModels.StudyUnits, 16, 8192);
    private static readonly Recipe QuickRecipe = new([10, 20], 16, 1, 8192);

    public static readonly Option<bool> LongRun = Define.Flag("--long",
        $"the full study: T = {Show(Long.Lengths)}, LSTM units {Long.Units}, {Long.Epochs} epochs of {Long.TrainSize} sequences " +
        $"(the default, run by `all`: T = {Show(Default.Lengths)}, units {Default.Units}, {Default.Epochs} epochs of {Default.TrainSize})");
    public static readonly Option<int[]> Lengths = Define.IntList("--lengths", "T,T...", $"sequence lengths [default: {Show(Default.Lengths)}; {Show(Long.Lengths)} with --long, {Show(QuickRecipe.Lengths)} with --quick]",
        Default.Lengths, min: 2, max: 10_000);
    public static readonly Option<int?> Units = Define.OptionalInt("--units",
        $"LSTM units; the other models take the units that match its parameter count [default: {Default.Units}, {Long.Units} with --long, {QuickRecipe.Units} with --quick]", min: 1, max: 1024);
    public static readonly Option<int?> TrainSize = Define.OptionalInt("--train-size",
        $"training sequences per length (one epoch) [default: {Default.TrainSize}, {Long.TrainSize} with --long, {QuickRecipe.TrainSize} with --quick]", min: 1, max: 1_000_000);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 32, min: 1);
    public static readonly Option<float> LearningRate = Define.Float("--lr", "RATE", "Adam's learning rate, the same for every model", AddingModels.LearningRate, min: 1e-6f, max: 1f);
    public static readonly Option<string[]> Models = Define.ChoiceList("--models", "the models to train, in this order", AddingModels.Names, AddingModels.Names);
    public IReadOnlyList<Option> Options => [LongRun, Lengths, Models, Units, TrainSize, BatchSize, LearningRate];

    /// <summary>A model has solved the adding problem when its test MSE falls below a tenth of the baseline's.</summary>
    public const double SolvedBelow = AddingProblem.BaselineMse / 10;

    public void Run(ExperimentContext ctx)
    {
        bool longRun = ctx.Get(LongRun);
        var recipe = ctx.Quick ? QuickRecipe : longRun ? Long : Default;   // --quick wins: the tests' proof of the pipeline
        var lengths = ctx.Given(Lengths) ? ctx.Get(Lengths) : recipe.Lengths;
        var kinds = ctx.Get(Models);
        int lstmUnits = ctx.Get(Units) ?? recipe.Units;
        int trainSize = ctx.Get(TrainSize) ?? recipe.TrainSize, batch = ctx.Get(BatchSize), epochs = ctx.Epochs(recipe.Epochs);
        float lr = ctx.Get(LearningRate);
        int testSize = ctx.Quick ? 256 : 1000;
        int stepsPerEpoch = (trainSize + batch - 1) / batch;
        var steps = Enumerable.Range(0, epochs + 1).Select(e => (double)e * stepsPerEpoch).ToArray();

        // Models: one recurrent layer and a Dense(1) head each, sized to the LSTM's parameter count.
        var sizes = kinds.ToDictionary(k => k, k => AddingModels.MatchedUnits(k, lstmUnits));
        foreach (var kind in kinds)
        {
            ctx.Metric($"{kind}_units", sizes[kind]);
            ctx.Metric($"{kind}_parameters", AddingModels.ParameterCount(kind, sizes[kind]));
        }
        ctx.Log($"adding problem, T = {Show(lengths)}: {string.Join(", ", kinds.Select(k => $"{AddingModels.Label(k)} {sizes[k]} units ({AddingModels.ParameterCount(k, sizes[k])} parameters)"))}; " +
                $"{epochs} epochs of {stepsPerEpoch} steps (batch {batch}), Adam({lr})");

        var curves = new Dictionary<(string Kind, int Length), double[]>();
        var losses = new Dictionary<(string Kind, int Length), double[]>();
        for (int li = 0; li < lengths.Length; li++)
        {
            int length = lengths[li];
            // Data: fresh draws for each length; every model sees the same training and test sequences.
            var train = AddingProblem.Data(ctx.Rng(1000 + (ulong)length), trainSize, length);
            var test = AddingProblem.Data(ctx.Rng(2000 + (ulong)length), testSize, length);
            foreach (var kind in kinds)
            {
                int k = Array.IndexOf(AddingModels.Names, kind);   // its seeds do not depend on which others run
                var run = $"{kind}_t{length}";
                var model = AddingModels.Create(kind, sizes[kind], ctx.Rng(3000 + (ulong)(length * 10 + k)));
                model.To(ctx.Device);
                ctx.Log($"== {AddingModels.Label(kind)}, T = {length}");
                var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint((LearningRate, "the learning rate")) };
                trainer.Compile(new Adam(model.Parameters(), lr: lr), (p, y) => Losses.Mse(p, y));
                double untrained = trainer.Evaluate(test, batch, verbose: 0)["loss"];
                var history = trainer.Fit(train, epochs, batch, validationData: test, callbacks: ctx.StandardCallbacks(run + "_"),
                    generator: ctx.Rng(4000 + (ulong)(length * 10 + k)));
                curves[(kind, length)] = [untrained, .. history["val_loss"]];
                losses[(kind, length)] = [double.NaN, .. history["loss"]];

                var mse = curves[(kind, length)][^1];
                int solvedAt = Array.FindIndex(curves[(kind, length)], v => v < SolvedBelow);
                ctx.Metric($"{run}_test_mse", mse);
                ctx.Metric($"{run}_solved", solvedAt >= 0);
                if (solvedAt >= 0) ctx.Metric($"{run}_steps_to_solve", (int)steps[solvedAt]);
                ctx.Log($"{AddingModels.Label(kind)}, T = {length}: test MSE {mse:0.0000} ({mse / AddingProblem.BaselineMse:0.0%} of predicting the mean)" +
                        (solvedAt >= 0 ? $", solved (below {SolvedBelow:0.0000}) after {steps[solvedAt]} steps" : ", not solved"));
            }
        }
        ctx.Metric("baseline_mse", AddingProblem.BaselineMse);
        ctx.Metric("solved_below", SolvedBelow);
        ctx.Metric("lengths", lengths);
        ctx.Metric("steps", epochs * stepsPerEpoch);

        // One row per evaluation: the step, then each run's training loss (its epoch's mean) and test MSE.
        var runs = lengths.SelectMany(t => kinds.Select(k => (k, t))).ToArray();
        ctx.WriteCsv("history.csv", ["step", .. runs.SelectMany(r => new[] { $"{r.k}_t{r.t}_loss", $"{r.k}_t{r.t}_test_mse" })],
            steps.Select((s, i) => (IReadOnlyList<double>)[s, .. runs.SelectMany(r => new[] { losses[r][i], curves[r][i] })]));
        SequenceFigures.Draw(ctx, kinds, lengths, steps, curves, sizes);
    }

    private static string Show(int[] values) => string.Join(",", values);
}
