using Lab.Core;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The GAN figures: a 10x10 grid of samples, the two loss curves, and the D:G ratio comparison.</summary>
internal static class GanFigures
{
    public static void Draw(ExperimentContext ctx, int dSteps, Tensor samples, History history,
        (int DSteps, Tensor Samples, History History)? comparison)
    {
    }
}
