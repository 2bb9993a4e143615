using Lab.Core;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Core.IO;
using Lab.Models;

namespace Lab.Experiments.Quality;

/// <summary>
/// The judge for generated digits: the digits CNN trained once on the training split (20 epochs, Adam)
/// and cached under results/cache, so every experiment and run scores samples with the same classifier. A folder named
/// cache that GenLab did not write is neither read nor written: the classifier is then trained for the run alone.
/// </summary>
public static class DigitsClassifier
{
    public const int Epochs = 20;
    /// <summary>Quick mode's judge (one epoch on a few hundred digits): enough to exercise the pipeline, not to be believed.</summary>
    public const int QuickEpochs = 1, QuickImages = 400;

    public static DigitsCnn Get(ExperimentContext ctx)
    {
        int epochs = ctx.Quick ? QuickEpochs : Epochs;
        var cacheDir = Path.Combine(Path.GetDirectoryName(ctx.FinalDir)!, "cache");
        var path = Path.Combine(cacheDir, $"digits-classifier-e{epochs}.ckpt");
        var model = new DigitsCnn(new Generator(2024));
        bool cached = IsGenLabs(cacheDir);
        if (!cached) ctx.Log($"not caching the digits classifier: {cacheDir} holds files GenLab did not write");
        if (cached && File.Exists(path))
        {
            try
            {
                Checkpoint.Load(path, model);
                ctx.Log($"digits classifier loaded from {path}");
                return model;
            }
            catch (CheckpointException e) { ctx.Log($"ignoring the cached classifier ({e.Message}); retraining"); }
        }
        ctx.Log($"training the digits classifier used to judge samples ({epochs} epochs, cached in {path})");
        var (train, test) = DigitsSource.Split(0);
        if (ctx.Quick) train = train.Subset(Enumerable.Range(0, QuickImages).ToArray());
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        trainer.Fit(train, epochs, 10, generator: new Generator(2025), verbose: 0);
        var acc = trainer.Evaluate(test, verbose: 0)["accuracy"];
        ctx.Log($"digits classifier held-out accuracy {acc:0.0000}");
        if (!cached || !ctx.IsRoot) return model;   // under --distributed rank 0 alone writes
        try
        {
            Checkpoint.Save(path, model, info: new CheckpointInfo { Epoch = epochs, Notes = { ["held_out_accuracy"] = acc.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture) } });
            new RunManifest { Experiment = "cache", Options = "digits classifiers that judge generated samples" }.Completed(cacheDir).Write(cacheDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ctx.Log($"the digits classifier was not cached ({e.Message})");
        }
        return model;
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
