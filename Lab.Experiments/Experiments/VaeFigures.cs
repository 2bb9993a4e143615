using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The VAE figures: a 10x10 grid of samples, held-out digits beside their reconstructions, the temperature sweep, loss curves.</summary>
internal static class VaeFigures
{
    public static void Draw(ExperimentContext ctx, Tensor samples, Dataset heldOut, Tensor reconstructions,
        List<(float T, Tensor Samples)> sweep, History history)
    {
    }
}
