using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Training;

namespace Lab.Experiments.Experiments;

/// <summary>The toy experiment's figures: data by class, decision regions, the regression fit, loss curves.</summary>
internal static class ToyFigures
{
    public static void Classification(ExperimentContext ctx, Module model, Dataset train, Dataset test, History history)
    {
    }

    public static void Regression(ExperimentContext ctx, Trainer trainer, Dataset train, History history)
    {
    }
}
