using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The mnist figures: loss and accuracy per epoch, and a few test images with the model's class probabilities.</summary>
internal static class MnistFigures
{
    public static void Draw(ExperimentContext ctx, Dataset test, Tensor probabilities, History history, string source)
    {
        ctx.SaveFigure(Plots.TrainingHistory(history, $"Keras tutorial CNN on {(source == "synthetic" ? "random data" : "28x28 IDX images")}"), "history");
        int n = Math.Min(4, probabilities.Shape[0]);
        var digits = Enumerable.Range(0, n).Select(i => test.Sample(i).ToArray()).ToList();
        var p = DigitPanels.Rows(probabilities.ToArray(), 10);
        ctx.SaveFigure(Plots.DigitProbabilities(digits, p.Take(n).ToList(), Enumerable.Range(0, n).Select(i => (int)test.Target(i)[0]).ToList(),
            "Test images and the model's class probabilities"), "test_predictions");
    }
}
