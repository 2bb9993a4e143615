using Lab.Core;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The score-digits figures: a 10x10 grid of samples, the annealing as a GIF (one frame per noise level), the loss curve.</summary>
internal static class ScoreDigitsFigures
{
    public static void Draw(ExperimentContext ctx, Tensor samples, List<float[]> frames, float[] sigmas, History history)
    {
    }
}
