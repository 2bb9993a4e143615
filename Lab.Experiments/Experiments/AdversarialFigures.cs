using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>The adversarial figures: originals beside their perturbed versions with the model's labels, success against an L∞ budget.</summary>
internal static class AdversarialFigures
{
    public static void Draw(ExperimentContext ctx, Module model, Dataset test, List<(int Image, int Target)> pairs, Tensor x,
        AdversarialExperiment.AttackResult attack, float[] budgets, List<double> sgd, List<double> fgsm)
    {
        // A few successful attacks with different targets, as the notes show them.
        var chosen = new List<int>();
        for (int p = 0; p < pairs.Count && chosen.Count < 5; p++)
            if (attack.Steps[p] >= 0 && chosen.All(q => pairs[q].Target != pairs[p].Target && pairs[q].Image != pairs[p].Image)) chosen.Add(p);
        if (chosen.Count > 0)
        {
            var images = DigitPanels.Rows(x.To(Device.Cpu).ToArray(), 64);
            var dx = DigitPanels.Rows(attack.Perturbation.To(Device.Cpu).ToArray(), 64);
            var originals = chosen.Select(p => images[p]).ToList();
            var adversarial = chosen.Select(p => images[p].Zip(dx[p], (a, b) => a + b).ToArray()).ToList();
            int[] before;
            using (new NoGrad())
            {
                model.Eval();
                before = model.Call(Tensor.FromArray(originals.SelectMany(o => o).ToArray(), [originals.Count, 1, 8, 8], x.Device))
                    .ArgMax(1).ToArray().Select(v => (int)v).ToArray();
            }
            ctx.SaveFigure(Plots.AdversarialPairs(originals, adversarial, before, chosen.Select(p => attack.FinalPrediction[p]).ToList(),
                "Targeted perturbations (SGD with an L1 penalty)"), "before_after");
        }
        ctx.SaveFigure(Plots.Lines(budgets.Select(b => (double)b).ToList(),
            [new Series("SGD + L1, perturbation clamped", sgd), new Series("targeted FGSM", fgsm)],
            "Targeted attack success against the L∞ budget", "L∞ budget", "success rate", yLimits: (0, 1.02)), "budget_curve");
    }
}
