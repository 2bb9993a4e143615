using Lab.Core;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The GAN figures: a 10x10 grid of samples, the two loss curves, and the D:G ratio comparison.</summary>
internal static class GanFigures
{
    public static void Draw(ExperimentContext ctx, int dSteps, Tensor samples, History history,
        (int DSteps, Tensor Samples, History History)? comparison)
    {
        ctx.SaveFigure(Plots.Samples(DigitPanels.Images(samples, 100), 10, $"GAN samples G(z), {dSteps} discriminator steps per generator step"), "samples");
        ctx.SaveFigure(Plots.LossCurves([new Series("discriminator L_D", history["d_loss"]), new Series("generator L_G", history["g_loss"])],
            $"GAN losses per epoch ({dSteps}:1)"), "losses");
        if (comparison is not { } c) return;

        string Caption(int steps, string prefix) => $"{steps} D step{(steps == 1 ? "" : "s")} per G step: " +
            $"{ctx.Metrics[prefix + "classes_covered"]}/10 classes, FD {(double)ctx.Metrics[prefix + "frechet_distance"]:0.0}";
        var panels = new List<(string, IReadOnlyList<float[]>)>
        {
            (Caption(dSteps, ""), DigitPanels.Images(samples, 64)),
            (Caption(c.DSteps, $"compare_d{c.DSteps}_"), DigitPanels.Images(c.Samples, 64)),
        };
        ctx.SaveFigure(DigitPanels.Grids(panels, 8, 2, "Discriminator : generator update ratios"), "d_steps_comparison");
        ctx.SaveFigure(Plots.LossCurves(
            [
                new Series($"L_D ({dSteps}:1)", history["d_loss"]), new Series($"L_G ({dSteps}:1)", history["g_loss"]),
                new Series($"L_D ({c.DSteps}:1)", c.History["d_loss"]), new Series($"L_G ({c.DSteps}:1)", c.History["g_loss"]),
            ], "GAN losses at two update ratios"), "d_steps_losses");
    }
}
