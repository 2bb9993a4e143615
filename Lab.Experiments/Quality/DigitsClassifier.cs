using Lab.Core;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Core.IO;
using Lab.Models;

namespace Lab.Experiments.Quality;

/// <summary>The classifier that judges a run's samples, and what it was trained on.</summary>
/// <param name="HeldOutAccuracy">Its accuracy on the run's held-out digits (which it never trained on).</param>
/// <param name="SplitSeed">The seed of the split whose training part it learned from: the run's own --seed.</param>
/// <param name="TrainingDigits">How many digits of that training part it learned from.</param>
public sealed record DigitsJudge(DigitsCnn Model, double HeldOutAccuracy, ulong SplitSeed, int TrainingDigits)
{
    /// <summary>Records who judged in metrics.json: judge_held_out_accuracy, judge_split_seed, judge_training_digits.</summary>
    public void Report(ExperimentContext ctx)
    {
        ctx.Metric("judge_held_out_accuracy", HeldOutAccuracy);
        ctx.Metric("judge_split_seed", SplitSeed);
        ctx.Metric("judge_training_digits", TrainingDigits);
    }
}

/// <summary>
/// The judge for generated digits: the digits CNN trained on the training part of the run's own split (the split of
/// --seed, 20 epochs, Adam), so it never sees the held-out digits the samples are compared with, and cached under
/// results/cache per split seed, so every experiment and run with that seed scores samples with the same classifier.
/// A folder named cache that GenLab did not write is neither read nor written: the classifier is then trained for the
/// run alone.
/// </summary>
public static class DigitsClassifier
{
    public const int Epochs = 20;
    /// <summary>Quick mode's judge: 10 epochs on 400 digits (held-out accuracy about 0.8 at seed 0, the full judge's 0.93), about a second, enough for quick mode's quality floors.</summary>
    public const int QuickEpochs = 10, QuickImages = 400;

    /// <summary>The indices (into the 1797 digits) the judge of a run with this seed learns from.</summary>
    public static int[] TrainingIndices(ulong seed, bool quick)
    {
        var train = DigitsSource.SplitIndices(seed).Train;
        return quick ? train[..QuickImages] : train;
    }

    public static DigitsJudge Get(ExperimentContext ctx)
    {
        int epochs = ctx.Quick ? QuickEpochs : Epochs;
        var indices = TrainingIndices(ctx.Seed, ctx.Quick);
        var cacheDir = ctx.CacheDir;
        var path = Path.Combine(cacheDir, $"digits-classifier-e{epochs}-n{indices.Length}-split{ctx.Seed}.ckpt");
        var model = new DigitsCnn(new Generator(2024));
        bool cached = IsGenLabs(cacheDir);
        if (!cached) ctx.Log($"not caching the digits classifier: {cacheDir} holds files GenLab did not write");
        if (cached && File.Exists(path))
        {
            try
            {
                var info = Checkpoint.Load(path, model);
                if (info.Notes.TryGetValue("held_out_accuracy", out var stored)
                    && double.TryParse(stored, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var storedAccuracy))
                {
                    ctx.Log($"digits classifier (split {ctx.Seed}, held-out accuracy {storedAccuracy:0.0000}) loaded from {path}");
                    return new DigitsJudge(model, storedAccuracy, ctx.Seed, indices.Length);
                }
                ctx.Log($"ignoring the cached classifier {path} (it does not record its held-out accuracy); retraining");
                model = new DigitsCnn(new Generator(2024));
            }
            catch (CheckpointException e)
            {
                ctx.Log($"ignoring the cached classifier ({e.Message}); retraining");
                model = new DigitsCnn(new Generator(2024));
            }
        }
        ctx.Log($"training the digits classifier that judges samples on {indices.Length} digits of split {ctx.Seed}'s training part ({epochs} epochs, cached in {path})");
        var all = DigitsSource.All();
        var train = all.Subset(indices);
        var test = all.Subset(DigitsSource.SplitIndices(ctx.Seed).Test);
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        trainer.Fit(train, epochs, 10, generator: new Generator(2025), verbose: 0);
        var acc = trainer.Evaluate(test, verbose: 0)["accuracy"];
        ctx.Log($"digits classifier held-out accuracy {acc:0.0000}");
        var judge = new DigitsJudge(model, acc, ctx.Seed, indices.Length);
        if (!cached || !ctx.IsRoot) return judge;   // under --distributed rank 0 alone writes
        try
        {
            var notes = new Dictionary<string, string>
            {
                ["held_out_accuracy"] = acc.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                ["split_seed"] = ctx.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["training_digits"] = indices.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            Checkpoint.Save(path, model, info: new CheckpointInfo { Epoch = epochs, Notes = notes });
            new RunManifest { Experiment = "cache", Options = "digits classifiers that judge generated samples" }.Completed(cacheDir).Write(cacheDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ctx.Log($"the digits classifier was not cached ({e.Message})");
        }
        return judge;
    }

    /// <summary>
    /// The cache folder is GenLab's when it does not exist yet, carries a manifest listing everything in it, or holds only
    /// classifier checkpoints (a cache from before manifests, or the temporary file of a save that was killed); a folder
    /// of that name holding anything else is a user's.
    /// </summary>
    private static bool IsGenLabs(string cacheDir) =>
        !Directory.Exists(cacheDir)
        || RunManifest.Foreign(cacheDir).All(n => n.TrimStart('.').StartsWith("digits-classifier-e", StringComparison.Ordinal)
                                                 && (n.EndsWith(".ckpt", StringComparison.Ordinal) || n.EndsWith(".tmp", StringComparison.Ordinal)));
}
