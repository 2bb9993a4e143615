using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The score figures: the Langevin GIF (data and samples, one frame per step, 4 fps), the final frame, the loss curve.</summary>
internal static class ScoreFigures
{
    public static void Draw(ExperimentContext ctx, Dataset data, List<float[]> frames, History history)
    {
        var xy = data.Features;
        ctx.SaveFigure(Plots.ClassScatter(xy, data.Targets.Select(t => (int)t).ToArray(), "Toy mixture (training data)"), "data");
        ctx.SaveAnimation("langevin", frames.Select((f, i) => Plots.LangevinFrame(xy, f, i + 1, frames.Count)));
        ctx.SaveFigure(Plots.LangevinFrame(xy, frames[^1], frames.Count, frames.Count), "langevin_final");
        ctx.SaveFigure(Plots.LossCurves([new Series((string)ctx.Metrics["loss_kind"] == "sliced" ? "sliced score matching" : "Hyvärinen loss (exact trace)", history["loss"])],
            "Score-matching loss per epoch"), "loss");
    }
}
