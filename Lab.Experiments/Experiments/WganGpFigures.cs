using Lab.Core;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>
/// The WGAN-GP figures: a 10x10 grid of samples, the critic's loss beside its Wasserstein estimate, the
/// penalty beside the mean gradient norm it holds near 1, and the samples beside the seed GAN's.
/// </summary>
internal static class WganGpFigures
{
    public static void Draw(ExperimentContext ctx, Tensor samples, History history, Tensor? ganSamples)
    {
        ctx.SaveFigure(Plots.Samples(DigitPanels.Images(samples, 100), 10, "WGAN-GP samples G(z)"), "samples");
        ctx.SaveFigure(Plots.LossCurves(
            [
                new Series("critic loss E[D(fake)] - E[D(real)] + λ·GP", history["critic_loss"]),
                new Series("Wasserstein estimate E[D(real)] - E[D(fake)]", history["w_estimate"]),
            ], "WGAN-GP critic per epoch", "value"), "losses");
        var penalty = Plots.LossCurves(
            [
                new Series("gradient penalty E[(‖∇D(x̂)‖ - 1)²]", history["gradient_penalty"]),
                new Series("mean ‖∇D(x̂)‖", history["grad_norm"]),
            ], "Gradient penalty and the critic's gradient norm on interpolates", "value");
        // Head room above the curves for the legend (the norm sits near 1 for most of the run).
        double top = history["grad_norm"].Concat(history["gradient_penalty"]).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        penalty.Plot.Axes.SetLimitsY(0, Math.Max(1, top) * 1.4);
        ctx.SaveFigure(penalty, "penalty");
        if (ganSamples is null) return;

        string Caption(string name, string prefix) =>
            $"{name}: {ctx.Metrics[prefix + "classes_covered"]}/10 classes, FD {(double)ctx.Metrics[prefix + "frechet_distance"]:0.0}";
        ctx.SaveFigure(DigitPanels.Grids(
            [
                (Caption("WGAN-GP", ""), DigitPanels.Images(samples, 64)),
                (Caption("seed GAN", "gan_"), DigitPanels.Images(ganSamples, 64)),
            ], 8, 2, "WGAN-GP beside the seed's GAN (same generator, same digits)"), "gan_comparison");
    }
}
