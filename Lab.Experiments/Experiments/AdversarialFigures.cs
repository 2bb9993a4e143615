using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Nn;

namespace Lab.Experiments.Experiments;

internal static class AdversarialFigures
{
    public static void Draw(ExperimentContext ctx, Module model, Dataset test, List<(int Image, int Target)> pairs, Tensor x,
        AdversarialExperiment.AttackResult attack, float[] budgets, List<double> sgd, List<double> fgsm)
    {
    }
}
