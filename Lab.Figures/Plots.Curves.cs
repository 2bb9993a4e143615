using Lab.Core.Training;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Lab.Figures;

// Curves and bars: Langevin frames, training histories, general line plots, benchmark tables.
public static partial class Plots
{
    /// <summary>
    /// One frame of Langevin sampling: the data and the current samples as two scatter layers on fixed limits
    /// x in [-3, 3], y in [-4, 4] (so frames line up in an animation), a legend, the step in the title.
    /// </summary>
    public static Figure LangevinFrame(float[] dataXy, float[] samplesXy, int step, int? steps = null, int width = 640, int height = 480)
    {
        var (dx, dy) = Split(dataXy, nameof(dataXy));
        var (sx, sy) = Split(samplesXy, nameof(samplesXy));
        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, steps is null ? $"Langevin step {step}" : $"Langevin step {step} / {steps}", "x\u2081", "x\u2082");
        Points(plot, dx, dy, Style.Class(0), "data", 4.4f, 0.5, edge: false);
        Points(plot, sx, sy, Style.Class(1), "samples", 4.4f, 0.5, edge: false);
        plot.Axes.SetLimits(-3, 3, -4, 4);
        plot.ShowLegend(Alignment.UpperRight); // fixed, so it does not jump between frames
        return figure;
    }

    /// <summary>
    /// A training history: losses on the left, other metrics (accuracy ...) on the right when there are any, over
    /// epochs. A "val_" series is dashed in the colour of its training series.
    /// </summary>
    public static Figure TrainingHistory(History history, string title = "Training", int width = 640, int height = 400)
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Epochs.Select(e => (double)e).ToArray();
        var losses = history.Values.Where(kv => kv.Key.Contains("loss", StringComparison.OrdinalIgnoreCase)).ToList();
        var metrics = history.Values.Where(kv => !kv.Key.Contains("loss", StringComparison.OrdinalIgnoreCase)).ToList();
        var groups = new[] { (Name: "loss", Series: losses), (Name: "metric", Series: metrics) }.Where(g => g.Series.Count > 0).ToList();
        if (groups.Count == 0) throw new ArgumentException("The history has no values.", nameof(history));
        var figure = new Figure(groups.Count == 1 ? Math.Min(width, 640) : width, height, 1, groups.Count) { Title = title };
        for (int g = 0; g < groups.Count; g++)
        {
            var plot = figure[0, g];
            var trainNames = groups[g].Series.Select(s => s.Key).Where(k => !k.StartsWith("val_", StringComparison.Ordinal)).ToList();
            Labels(plot, null, "epoch", groups[g].Name == "loss" ? "loss" : string.Join(", ", trainNames));
            foreach (var (name, values) in groups[g].Series)
            {
                bool validation = name.StartsWith("val_", StringComparison.Ordinal);
                int colorIndex = trainNames.IndexOf(validation ? name[4..] : name);
                var line = Curve(plot, epochs[..values.Count], values, name, colorIndex >= 0 ? colorIndex : trainNames.Count,
                    epochs.Length <= 30 ? MarkerShape.FilledCircle : MarkerShape.None);
                if (validation) line.LinePattern = LinePattern.Dashed;
            }
            EpochTicks(plot);
            BestLegend(plot, groups[g].Series.SelectMany(kv => kv.Value.Select((v, i) => (epochs[i], v))));
        }
        return figure;
    }

    /// <summary>Named curves over epochs (1, 2, ... unless <paramref name="epochs"/> is given), with a legend.</summary>
    public static Figure LossCurves(IReadOnlyList<Series> series, string title = "Loss", string yLabel = "loss",
        IReadOnlyList<double>? epochs = null, int width = 640, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(series);
        int n = series.Count == 0 ? 0 : series.Max(s => s.Values.Count);
        var x = epochs?.ToArray() ?? [.. Enumerable.Range(1, n).Select(e => (double)e)];
        var figure = Lines(x, series, title, "epoch", yLabel, markers: n <= 30, width: width, height: height);
        EpochTicks(figure.Plot);
        return figure;
    }

    /// <summary>Several curves over a shared x (e.g. attack success rate against the L\u221E budget), each with its own
    /// colour and marker, and a legend.</summary>
    public static Figure Lines(IReadOnlyList<double> x, IReadOnlyList<Series> series, string title, string xLabel, string yLabel,
        bool markers = true, (double Min, double Max)? yLimits = null, int width = 640, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, xLabel, yLabel);
        var xs = x.ToArray();
        for (int s = 0; s < series.Count; s++)
        {
            if (series[s].Values.Count > xs.Length)
                throw new ArgumentException($"Series '{series[s].Name}' has {series[s].Values.Count} values for {xs.Length} x values.", nameof(series));
            Curve(plot, xs[..series[s].Values.Count], series[s].Values, series[s].Name, s, markers ? SeriesMarkers[s % SeriesMarkers.Length] : MarkerShape.None);
        }
        if (yLimits is { } y) plot.Axes.SetLimitsY(y.Min, y.Max);
        if (series.Count > 0) BestLegend(plot, series.SelectMany(s => s.Values.Select((v, i) => (xs[i], v))), yLimits);
        return figure;
    }

    /// <summary>
    /// A grouped bar chart for benchmark tables: one group per workload (x), one bar per series (CPU, GPU, PyTorch ...)
    /// with a legend; optionally a log y axis (decades labelled 10, 100, 1000 ...); values written above the bars when
    /// <paramref name="valueLabels"/>. NaN values leave a gap (a missing measurement).
    /// </summary>
    /// <summary>
    /// A bar's value label, at most four characters wide so that neighbouring bars' labels never overlap: three
    /// significant digits, with k or M from 10,000 on (112,141 is "112k", 18,712 is "18.7k").
    /// </summary>
    public static string BarLabel(double value)
    {
        double a = Math.Abs(value);
        if (!double.IsFinite(value) || a < 10_000) return Compact(value);
        var (scaled, suffix) = a < 999_500 ? (value / 1e3, "k") : (value / 1e6, "M");
        return Compact(scaled) + suffix;
    }

    public static Figure GroupedBars(IReadOnlyList<string> groups, IReadOnlyList<Series> series, string title, string yLabel,
        bool logScale = false, bool valueLabels = true, int width = 640, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.Any(s => s.Values.Count != groups.Count))
            throw new ArgumentException($"Every series needs one value per group ({groups.Count}).", nameof(series));
        var finite = series.SelectMany(s => s.Values).Where(v => double.IsFinite(v) && (!logScale || v > 0)).DefaultIfEmpty(1).ToList();
        // A log axis plots log10 of the values; the bars start at the axis floor.
        double floor = logScale ? Math.Log10(finite.Min() / 2) : 0;
        double Y(double v) => logScale ? Math.Log10(v) : v;

        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, null, yLabel);
        double groupWidth = 0.8, barWidth = groupWidth / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (int g = 0; g < groups.Count; g++)
            {
                double v = series[s].Values[g];
                if (!double.IsFinite(v) || (logScale && v <= 0)) continue;
                bars.Add(new Bar
                {
                    Position = g - groupWidth / 2 + barWidth * (s + 0.5),
                    Value = Y(v),
                    ValueBase = floor,
                    Size = barWidth * 0.92,
                    FillColor = Style.Class(s),
                    LineWidth = 0,
                    Label = valueLabels ? BarLabel(v) : "",
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Name;
            plottable.ValueLabelStyle.FontSize = 11;
            plottable.ValueLabelStyle.ForeColor = Style.Text;
        }
        plot.Axes.Bottom.TickGenerator = Style.Ticks(Enumerable.Range(0, groups.Count).Select(g => (double)g), p => groups[(int)Math.Round(p)]);
        if (logScale)
        {
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinimumTickSpacing = 45,
                LabelFormatter = Decade,
                MinorTickGenerator = new LogMinorTickGenerator(),
            };
            plot.Axes.SetLimitsY(floor, Math.Log10(finite.Max() * 3));
            plot.Grid.MinorLineWidth = 1;
            plot.Grid.MinorLineColor = Colormap.Mix(Style.Grid, Colors.White, 0.5);
        }
        else
        {
            plot.Axes.SetLimitsY(Math.Min(0, finite.Min() * 1.15), Math.Max(finite.Max() * 1.15, 1e-12));
        }
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.Grid.XAxisStyle.IsVisible = false;
        plot.ShowLegend(Alignment.UpperRight);
        return figure;
    }

    /// <summary>A decade on a log axis as a power of ten, 10³ for log10 = 3.</summary>
    private static string Decade(double log10)
    {
        const string superscripts = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079";
        int e = (int)Math.Round(log10);
        var digits = Math.Abs(e).ToString(System.Globalization.CultureInfo.InvariantCulture).Select(d => superscripts[d - '0']);
        return "10" + (e < 0 ? "\u207b" : "") + string.Concat(digits);
    }

    private static ScottPlot.Plottables.Scatter Curve(Plot plot, double[] x, IReadOnlyList<double> y, string name, int index, MarkerShape marker)
    {
        var line = plot.Add.Scatter(x, y.ToArray(), Style.Class(index));
        line.LineWidth = 2;
        line.MarkerShape = marker;
        line.MarkerSize = marker == MarkerShape.None ? 0 : 7;
        line.LegendText = name;
        return line;
    }

    /// <summary>Whole-number ticks for epochs: nice steps but never fractions.</summary>
    private static void EpochTicks(Plot plot) => plot.Axes.Bottom.TickGenerator = Style.Automatic(integers: true);
}
