using Lab.Core.Data;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The score figures: the Langevin GIF (data and samples, one frame per step), the final frame, the loss curve.</summary>
internal static class ScoreFigures
{
    public static void Draw(ExperimentContext ctx, Dataset data, List<float[]> frames, History history)
    {
    }
}
