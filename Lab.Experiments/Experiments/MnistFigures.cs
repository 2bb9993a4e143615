using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The mnist figures: loss and accuracy per epoch, and a few test images with the predicted class.</summary>
internal static class MnistFigures
{
    public static void Draw(ExperimentContext ctx, Dataset test, Tensor probabilities, History history, string source)
    {
    }
}
