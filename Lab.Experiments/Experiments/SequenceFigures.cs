using Lab.Figures;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// The sequence figures: test MSE against training steps, one panel per length, with the line of predicting the mean;
/// and the final test MSE of each model at each length as bars.
/// </summary>
internal static class SequenceFigures
{
    public static void Draw(ExperimentContext ctx, string[] kinds, int[] lengths, double[] steps, Dictionary<(string Kind, int Length), double[]> curves,
        Dictionary<string, int> units)
    {
        string Legend(string kind) => $"{AddingModels.Label(kind)} ({units[kind]} units, {AddingModels.ParameterCount(kind, units[kind])} params)";
        var baseline = (AddingProblem.BaselineMse, $"predict the mean ({AddingProblem.BaselineMse:0.000})");
        // One y range for all panels, so that the lengths compare at a glance.
        var finite = curves.Values.SelectMany(c => c).Where(v => v > 0 && double.IsFinite(v)).Append(AddingProblem.BaselineMse).ToList();
        var range = (Math.Min(finite.Min() / 1.5, SequenceExperiment.SolvedBelow / 2), Math.Max(finite.Max(), AddingProblem.BaselineMse) * 100);   // head room for the legend

        var figure = new Figure(460 * lengths.Length, 440, 1, lengths.Length) { Title = "Adding problem: test MSE during training" };
        for (int i = 0; i < lengths.Length; i++)
        {
            var series = kinds.Select(k => new Series(Legend(k), curves[(k, lengths[i])])).ToList();
            Plots.LogCurves(figure[0, i], steps, series, baseline, $"T = {lengths[i]}", "training steps", "test MSE", range, legend: i == 0);
        }
        ctx.SaveFigure(figure, "mse_vs_steps");

        var groups = lengths.Select(t => $"T = {t}").ToList();
        var bars = kinds.Select(k => new Series(AddingModels.Label(k), lengths.Select(t => curves[(k, t)][^1]).ToList())).ToList();
        var chart = Plots.GroupedBars(groups, bars, $"Final test MSE after {steps[^1]:0} steps (predicting the mean: {AddingProblem.BaselineMse:0.000})",
            "test MSE", logScale: true, width: Math.Max(640, 320 * lengths.Length));
        var line = chart.Plot.Add.HorizontalLine(Math.Log10(AddingProblem.BaselineMse), 1.5f, Style.Text, ScottPlot.LinePattern.Dashed);
        line.LegendText = "predict the mean";
        ctx.SaveFigure(chart, "final_mse");
    }
}
