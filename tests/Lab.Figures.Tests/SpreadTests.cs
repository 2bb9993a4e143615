using ScottPlot;

namespace Lab.Figures.Tests;

/// <summary>Plots.Spread: a metric's mean ± sd over runs, each run's value and a reference, one panel per metric.</summary>
public class SpreadTests
{
    [Fact]
    public void EachPanelShowsTheMeanWithItsBarTheRunsAndTheReference()
    {
        using var look = new Look();
        var figure = Plots.Spread(
            [
                new MetricSpread("classes covered", 8, Math.Sqrt(2), [7, 8, 9, 10, 6]),
                new MetricSpread("frechet distance", 30, 4, [26, 34], new MetricReference("real vs real", 2, 0.25)),
                new MetricSpread("one seed", 0.5, double.NaN, [0.5]),
            ], "gan over 5 seeds");
        look.Save(figure, "spread", "gan over 5 seeds", "classes covered", "frechet distance", "one seed", "mean ± sd", "seeds", "real vs real");
        Assert.Equal((1, 3), (figure.Rows, figure.Columns));

        // The error bars are ± one standard deviation at x = 0 (and at the reference's x = 2), none without a spread.
        var bars = Enumerable.Range(0, 3).Select(c => figure[0, c].GetPlottables().OfType<ScottPlot.Plottables.ErrorBar>().ToList()).ToList();
        Assert.Equal([1, 2, 0], bars.Select(b => b.Count));
        Assert.Equal((0.0, 8.0, Math.Sqrt(2)), (bars[0][0].Xs[0], bars[0][0].Ys[0], bars[0][0].YErrorPositive![0]));
        Assert.Equal((2.0, 2.0, 0.25), (bars[1][1].Xs[0], bars[1][1].Ys[0], bars[1][1].YErrorNegative![0]));

        // Every value, bar end and the reference lie inside the panel's y range.
        foreach (var (column, low, high) in new[] { (0, 6.0, 10.0), (1, 1.75, 34.0), (2, 0.5, 0.5) })
        {
            var limits = figure[0, column].Axes.GetLimits();
            Assert.True(limits.Bottom < low && limits.Top > high, $"panel {column}: y from {limits.Bottom} to {limits.Top}, data from {low} to {high}");
        }
    }

    [Fact]
    public void NoMetricsOrNoValuesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Plots.Spread([], "t"));
        var e = Assert.Throws<ArgumentException>(() => Plots.Spread([new MetricSpread("empty", 0, 0, [])], "t"));
        Assert.Contains("'empty' has no values", e.Message);
    }
}
