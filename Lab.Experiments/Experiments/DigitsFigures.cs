using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The digits figures: a few held-out digits beside their class probabilities, the confusion matrix, curves.</summary>
internal static class DigitsFigures
{
    public static int[,] Confusion(Dataset test, Tensor probabilities)
    {
        var p = probabilities.ToArray();
        var m = new int[10, 10];
        for (int i = 0; i < test.Count; i++)
        {
            int best = 0;
            for (int c = 1; c < 10; c++) if (p[i * 10 + c] > p[i * 10 + best]) best = c;
            m[(int)test.Target(i)[0], best]++;
        }
        return m;
    }

    public static void Draw(ExperimentContext ctx, Dataset test, Tensor probabilities, History history, string accuracyKey, string lossKey)
    {
        var confusion = Confusion(test, probabilities);
        ctx.Metric("confusion_matrix", Enumerable.Range(0, 10).Select(r => Enumerable.Range(0, 10).Select(c => confusion[r, c]).ToArray()).ToArray());
        ctx.SaveFigure(Plots.ConfusionMatrix(confusion, "Held-out confusion matrix"), "confusion_matrix");

        // The notes' held-out figure: a test digit beside the bar chart of the model's probabilities.
        int n = Math.Min(4, test.Count);
        var p = DigitPanels.Rows(probabilities.ToArray(), 10);
        ctx.SaveFigure(Plots.DigitProbabilities(Enumerable.Range(0, n).Select(i => test.Sample(i).ToArray()).ToList(), p.Take(n).ToList(),
            Enumerable.Range(0, n).Select(i => (int)test.Target(i)[0]).ToList(), "Held-out digits and the model's class probabilities"), "held_out_probabilities");
        ctx.SaveFigure(Plots.TrainingHistory(history, $"Training ({lossKey}, {accuracyKey})"), "history");
    }
}
