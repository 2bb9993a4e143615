using System.Globalization;
using Lab.Core;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The score-digits figures: a 10x10 grid of samples, the annealing as a GIF (one frame per noise level) and as a strip, the loss curve.</summary>
internal static class ScoreDigitsFigures
{
    public static void Draw(ExperimentContext ctx, Tensor samples, List<float[]> frames, float[] sigmas, History history)
    {
        ctx.SaveFigure(Plots.Samples(DigitPanels.Images(samples, 100), 10, "Annealed Langevin samples of the noise-conditional score network"), "samples");

        // frames: the initial noise, one per level, the denoised end.
        string Label(int i) => i == 0 ? "start: U(0, 1) noise" : i <= sigmas.Length
            ? $"after σ = {sigmas[i - 1].ToString("0.###", CultureInfo.InvariantCulture)} ({i}/{sigmas.Length})" : "after the denoising step";
        var grids = frames.Select(f => DigitPanels.Rows(f, 64)).ToList();
        ctx.SaveAnimation("annealing", grids.Select((g, i) => Plots.Samples(g, 10, Label(i))));
        var shown = new[] { 0, sigmas.Length / 4, sigmas.Length / 2, 3 * sigmas.Length / 4, sigmas.Length, sigmas.Length + 1 }.Distinct().ToArray();
        ctx.SaveFigure(DigitPanels.Grids(shown.Select(i => (Label(i), (IReadOnlyList<float[]>)grids[i].Take(25).ToList())).ToList(), 5, 3,
            "Annealed Langevin dynamics, from noise to digits"), "annealing");
        if (history.Epochs.Count > 0)
            ctx.SaveFigure(Plots.LossCurves([new Series("denoising score matching", history["loss"])], "Training loss per epoch"), "loss");
    }
}
