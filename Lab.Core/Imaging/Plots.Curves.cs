using System.Globalization;
using Lab.Core.Training;

namespace Lab.Core.Imaging;

// Curves and bars: Langevin frames, training histories, general line plots, benchmark tables.
public static partial class Plots
{
    private static readonly Marker[] SeriesMarkers = [Marker.Circle, Marker.Square, Marker.Triangle, Marker.Diamond];

    /// <summary>
    /// One frame of Langevin sampling: the data and the current samples as two scatter layers on fixed limits
    /// x in [-3, 3], y in [-4, 4] (so frames line up in an animation), a legend, the step in the title.
    /// </summary>
    public static Figure LangevinFrame(float[] dataXy, float[] samplesXy, int step, int? steps = null, int width = 640, int height = 480)
    {
        var (dx, dy) = Split(dataXy, nameof(dataXy));
        var (sx, sy) = Split(samplesXy, nameof(samplesXy));
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = steps is null ? $"Langevin step {step}" : $"Langevin step {step} / {steps}";
        axes.XLimits = (-3, 3);
        axes.YLimits = (-4, 4);
        axes.XLabel = "x\u2081";
        axes.YLabel = "x\u2082";
        axes.Legend = LegendLocation.UpperRight; // fixed, so it does not jump between frames
        var data = axes.Scatter(dx, dy, Palette.Class(0), "data");
        (data.Radius, data.Alpha, data.EdgeColor) = (2.2, 0.5, null);
        var samples = axes.Scatter(sx, sy, Palette.Class(1), "samples");
        (samples.Radius, samples.Alpha, samples.EdgeColor) = (2.2, 0.5, null);
        return figure;
    }

    /// <summary>
    /// A training history: losses on the left, other metrics (accuracy ...) on the right when there are any,
    /// over epochs. A "val_" series is dashed in the colour of its training series.
    /// </summary>
    public static Figure TrainingHistory(History history, string title = "Training", int width = 640, int height = 400)
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Epochs.Select(e => (double)e).ToArray();
        var losses = history.Values.Where(kv => kv.Key.Contains("loss", StringComparison.OrdinalIgnoreCase)).ToList();
        var metrics = history.Values.Where(kv => !kv.Key.Contains("loss", StringComparison.OrdinalIgnoreCase)).ToList();
        var groups = new[] { (Name: "loss", Series: losses), (Name: "metric", Series: metrics) }.Where(g => g.Series.Count > 0).ToList();
        if (groups.Count == 0)
        {
            throw new ArgumentException("The history has no values.", nameof(history));
        }
        var figure = new Figure(groups.Count == 1 ? Math.Min(width, 640) : width, height, 1, groups.Count) { Title = title };
        for (int g = 0; g < groups.Count; g++)
        {
            var axes = figure[0, g];
            axes.XLabel = "epoch";
            axes.YLabel = groups[g].Name == "loss" ? "loss" : string.Join(", ", groups[g].Series.Select(s => s.Key).Where(k => !k.StartsWith("val_", StringComparison.Ordinal)));
            var trainNames = groups[g].Series.Select(s => s.Key).Where(k => !k.StartsWith("val_", StringComparison.Ordinal)).ToList();
            foreach (var (name, values) in groups[g].Series)
            {
                string baseName = name.StartsWith("val_", StringComparison.Ordinal) ? name[4..] : name;
                int colorIndex = trainNames.IndexOf(baseName);
                var line = AddCurve(axes, epochs[..values.Count], values, name, colorIndex >= 0 ? colorIndex : trainNames.Count, epochs.Length <= 30);
                line.Dashed = name.StartsWith("val_", StringComparison.Ordinal);
            }
            axes.XTicks = EpochTicks(epochs);
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
        figure.Axes.XTicks = EpochTicks(x);
        return figure;
    }

    /// <summary>Several curves over a shared x (e.g. attack success rate against the L\u221E budget), each with
    /// its own colour and marker, and a legend.</summary>
    public static Figure Lines(IReadOnlyList<double> x, IReadOnlyList<Series> series, string title, string xLabel, string yLabel,
        bool markers = true, (double Min, double Max)? yLimits = null, int width = 640, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.XLabel = xLabel;
        axes.YLabel = yLabel;
        axes.YLimits = yLimits;
        var xs = x.ToArray();
        for (int s = 0; s < series.Count; s++)
        {
            if (series[s].Values.Count > xs.Length)
            {
                throw new ArgumentException($"Series '{series[s].Name}' has {series[s].Values.Count} values for {xs.Length} x values.", nameof(series));
            }
            var line = AddCurve(axes, xs[..series[s].Values.Count], series[s].Values, series[s].Name, s, markers);
            line.Marker = markers ? SeriesMarkers[s % SeriesMarkers.Length] : Marker.None;
        }
        return figure;
    }

    /// <summary>
    /// A grouped bar chart for benchmark tables: one group per workload (x), one bar per series (CPU, GPU,
    /// PyTorch ...) with a legend; optionally a log y axis; values written above the bars when
    /// <paramref name="valueLabels"/>. NaN values leave a gap (a missing measurement).
    /// </summary>
    public static Figure GroupedBars(IReadOnlyList<string> groups, IReadOnlyList<Series> series, string title, string yLabel,
        bool logScale = false, bool valueLabels = true, int width = 640, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.Any(s => s.Values.Count != groups.Count))
        {
            throw new ArgumentException($"Every series needs one value per group ({groups.Count}).", nameof(series));
        }
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.YLabel = yLabel;
        axes.LogY = logScale;
        axes.XGrid = false;
        var layer = axes.Bars([.. series.Select(s => s.Name)], [.. series.Select(s => s.Values)]);
        if (valueLabels)
        {
            layer.ValueLabels = v => Ticks.Compact(v);
        }
        axes.XTicks = [.. groups.Select((g, i) => new Tick(i, g))];
        // Room above the tallest bar for its value label and the legend.
        var finite = series.SelectMany(s => s.Values).Where(v => double.IsFinite(v) && (!logScale || v > 0)).DefaultIfEmpty(1).ToList();
        axes.YLimits = logScale ? (finite.Min() / 2, finite.Max() * 3) : (Math.Min(0, finite.Min() * 1.15), Math.Max(finite.Max() * 1.15, 1e-12));
        return figure;
    }

    private static LineLayer AddCurve(Axes axes, double[] x, IReadOnlyList<double> y, string name, int index, bool markers)
    {
        var line = axes.Line(x, y.ToArray(), Palette.Class(index), name);
        line.Marker = markers ? Marker.Circle : Marker.None;
        line.MarkerRadius = 3.5;
        return line;
    }

    /// <summary>Whole-number ticks for epochs: nice steps but never fractions.</summary>
    private static IReadOnlyList<Tick> EpochTicks(IReadOnlyList<double> epochs)
    {
        if (epochs.Count == 0)
        {
            return [];
        }
        double lo = epochs.Min(), hi = epochs.Max();
        var ticks = Ticks.Linear(lo, hi, 8).Where(t => Math.Abs(t.Value - Math.Round(t.Value)) < 1e-9).ToList();
        return ticks.Count > 0 ? ticks : [new Tick(lo, lo.ToString(CultureInfo.InvariantCulture))];
    }
}
