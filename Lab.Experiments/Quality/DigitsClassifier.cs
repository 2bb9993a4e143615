using Lab.Core;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Models;

namespace Lab.Experiments.Quality;

/// <summary>
/// The judge for generated digits: the digits CNN trained once on the training split (20 epochs, Adam)
/// and cached under results/cache, so every experiment and run scores samples with the same classifier.
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
        if (File.Exists(path))
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
        Checkpoint.Save(path, model, info: new CheckpointInfo { Epoch = epochs, Notes = { ["held_out_accuracy"] = acc.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture) } });
        return model;
    }
}
