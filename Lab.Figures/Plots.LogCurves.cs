using ScottPlot;
using ScottPlot.TickGenerators;

namespace Lab.Figures;

// Curves on a log y axis with a reference line: errors that fall by decades, against a baseline to beat.
public static partial class Plots
{
    /// <summary>
    /// Curves over a shared x on a log₁₀ y axis (decades labelled 10⁻², 10⁻¹ ...), and a dashed horizontal
    /// <paramref name="baseline"/> labelled in the legend, drawn on <paramref name="plot"/> (one panel of a
    /// <see cref="Figure"/>). Values that are not positive and finite leave a gap. <paramref name="yRange"/> fixes the
    /// axis (in data units) so that panels side by side compare; without it the axis fits the data and the baseline, with
    /// head room above for the legend (upper right; none with <paramref name="legend"/> false, for the later panels).
    /// </summary>
    public static void LogCurves(Plot plot, IReadOnlyList<double> x, IReadOnlyList<Series> series, (double Value, string Label) baseline,
        string title, string xLabel, string yLabel, (double Min, double Max)? yRange = null, bool legend = true)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        if (!(baseline.Value > 0)) throw new ArgumentException($"The baseline must be positive on a log axis, got {baseline.Value}.", nameof(baseline));
        Labels(plot, title, xLabel, yLabel);
        var xs = x.ToArray();
        for (int s = 0; s < series.Count; s++)
        {
            if (series[s].Values.Count > xs.Length)
                throw new ArgumentException($"Series '{series[s].Name}' has {series[s].Values.Count} values for {xs.Length} x values.", nameof(series));
            var y = series[s].Values.Select(v => v > 0 && double.IsFinite(v) ? Math.Log10(v) : double.NaN).ToArray();
            Curve(plot, xs[..y.Length], y, series[s].Name, s, xs.Length <= 30 ? SeriesMarkers[s % SeriesMarkers.Length] : MarkerShape.None);
        }
        var line = plot.Add.HorizontalLine(Math.Log10(baseline.Value), 1.5f, Style.Text, LinePattern.Dashed);
        line.LegendText = baseline.Label;

        var finite = series.SelectMany(s => s.Values).Where(v => v > 0 && double.IsFinite(v)).Append(baseline.Value).ToList();
        var (low, high) = yRange ?? (finite.Min() / 1.5, finite.Max() * 30);
        plot.Axes.SetLimitsY(Math.Log10(low), Math.Log10(high));
        if (xs.Length > 0) plot.Axes.SetLimitsX(Math.Min(0, xs.Min()), xs.Max() * 1.02);
        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinimumTickSpacing = 30,
            LabelFormatter = Decade,
            MinorTickGenerator = new LogMinorTickGenerator(),
        };
        plot.Grid.MinorLineWidth = 1;
        plot.Grid.MinorLineColor = Colormap.Mix(Style.Grid, Colors.White, 0.5);
        if (legend) plot.ShowLegend(Alignment.UpperRight);
        else plot.HideLegend();
    }
}
