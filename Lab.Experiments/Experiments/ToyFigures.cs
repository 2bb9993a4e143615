using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The toy experiment's figures: data by class, decision regions, the regression fit, training curves.</summary>
internal static class ToyFigures
{
    public const int GridSize = 300;

    public static void Classification(ExperimentContext ctx, Module model, Dataset train, Dataset test, History history)
    {
        ctx.SaveFigure(Plots.ClassScatter(train.Features, Labels(train), "Toy mixture (training data)"), "data");

        // The notes' decision regions: argmax of the model over a 300 x 300 grid around the data.
        var (xRange, yRange) = (Range(train.Features, 0), Range(train.Features, 1));
        var grid = new float[GridSize * GridSize * 2];
        for (int i = 0; i < GridSize; i++)
            for (int j = 0; j < GridSize; j++)
            {
                grid[2 * (i * GridSize + j)] = (float)(xRange.Min + (xRange.Max - xRange.Min) * j / (GridSize - 1));
                grid[2 * (i * GridSize + j) + 1] = (float)(yRange.Min + (yRange.Max - yRange.Min) * i / (GridSize - 1));
            }
        float[] predicted;
        using (new NoGrad())
        {
            model.Eval();
            predicted = model.Call(Tensor.FromArray(grid, [GridSize * GridSize, 2], ctx.Device)).ArgMax(1).ToArray();
        }
        var classes = new int[GridSize, GridSize];
        for (int i = 0; i < GridSize; i++)
            for (int j = 0; j < GridSize; j++) classes[i, j] = (int)predicted[i * GridSize + j];
        ctx.SaveFigure(Plots.DecisionRegions(classes, xRange, yRange, test.Features, Labels(test), "Decision regions and the test points"), "decision_regions");
        ctx.SaveFigure(Plots.TrainingHistory(history, "Training"), "history");
    }

    public static void Regression(ExperimentContext ctx, Trainer trainer, Dataset train, History history)
    {
        var curveX = Enumerable.Range(0, 301).Select(i => -3f + 6f * i / 300).ToArray();
        var curveY = trainer.Predict(Tensor.FromArray(curveX, [curveX.Length, 1], ctx.Device), 301).To(Device.Cpu).ToArray();
        ctx.SaveFigure(Plots.Fit(train.Features, train.Targets, curveX, curveY, "Noisy sin and the fitted network"), "regression_fit");
        ctx.SaveFigure(Plots.TrainingHistory(history, "Training"), "history");
    }

    private static int[] Labels(Dataset d) => d.Targets.Select(t => (int)t).ToArray();

    private static (double Min, double Max) Range(float[] xy, int axis)
    {
        double min = double.MaxValue, max = double.MinValue;
        for (int i = axis; i < xy.Length; i += 2) { min = Math.Min(min, xy[i]); max = Math.Max(max, xy[i]); }
        double pad = 0.1 * (max - min);
        return (Math.Floor(min - pad), Math.Ceiling(max + pad));
    }
}
