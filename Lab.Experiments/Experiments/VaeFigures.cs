using System.Globalization;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The VAE figures: a 10x10 grid of samples, held-out digits above their reconstructions, the temperature sweep, loss curves.</summary>
internal static class VaeFigures
{
    public static void Draw(ExperimentContext ctx, float temperature, Tensor samples, Dataset heldOut, Tensor reconstructions,
        List<(float T, Tensor Samples)> sweep, History history)
    {
        string t = temperature.ToString(CultureInfo.InvariantCulture);
        ctx.SaveFigure(Plots.Samples(DigitPanels.Images(samples, 100), 10, $"VAE samples f(z), z ~ N(0, I) (T = {t})"), "samples");

        var originals = DigitPanels.Rows(heldOut.FeaturesTensor().Narrow(0, 0, reconstructions.Shape[0]).ToArray(), 64);
        ctx.SaveFigure(Plots.Samples([.. originals, .. DigitPanels.Images(reconstructions, reconstructions.Shape[0])], originals.Count,
            "Held-out digits (top) and their reconstructions f(mu(x)) (bottom)"), "reconstructions");

        if (sweep.Count > 0)
        {
            var panels = sweep.Select(s => ($"T = {s.T.ToString(CultureInfo.InvariantCulture)}", (IReadOnlyList<float[]>)DigitPanels.Images(s.Samples, 36))).ToList();
            ctx.SaveFigure(DigitPanels.Grids(panels, 6, Math.Min(4, panels.Count), "Samples after training at each decoder temperature T", scale: 5), "temperature_sweep");
        }

        ctx.SaveFigure(Plots.LossCurves(
            [new Series("KL term", history["kl_loss"]), new Series("reconstruction term", history["reconstruction_loss"]), new Series("total", history["loss"])],
            $"VAE loss terms per epoch (T = {t})"), "losses");
    }
}
