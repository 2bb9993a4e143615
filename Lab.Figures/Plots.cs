using System.Globalization;
using ScottPlot;

namespace Lab.Figures;

/// <summary>A named sequence of numbers: one curve of a line plot or one series of a grouped bar chart.</summary>
public sealed record Series(string Name, IReadOnlyList<double> Values);

/// <summary>
/// The figures the course draws, ready made on ScottPlot in the house style (<see cref="Style"/>). Each returns a
/// <see cref="Figure"/> to save or adjust further. Inputs are plain arrays: points are interleaved (x0, y0, x1, y1, ...),
/// images are row-major squares (64 or 784 values), intensities in [0, 1] shown dark = high.
/// </summary>
public static partial class Plots
{
    private static readonly MarkerShape[] SeriesMarkers =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];

    private static (double[] X, double[] Y) Split(float[] xy, string name)
    {
        ArgumentNullException.ThrowIfNull(xy, name);
        if (xy.Length % 2 != 0)
            throw new ArgumentException($"{name} must hold interleaved x, y pairs; it has {xy.Length} values.", name);
        var x = new double[xy.Length / 2];
        var y = new double[xy.Length / 2];
        for (int i = 0; i < x.Length; i++) (x[i], y[i]) = (xy[2 * i], xy[2 * i + 1]);
        return (x, y);
    }

    private static int ClassCount(int given, params ReadOnlySpan<int> seen)
    {
        int max = -1;
        foreach (int c in seen)
        {
            if (c < 0) throw new ArgumentException($"Class labels must not be negative; got {c}.");
            max = Math.Max(max, c);
        }
        return Math.Max(given, max + 1);
    }

    /// <summary>Points in one colour with a thin white edge (seaborn's scatter look).</summary>
    private static ScottPlot.Plottables.Scatter Points(Plot plot, double[] x, double[] y, Color color, string? name, float size, double alpha = 1, bool edge = true)
    {
        var points = plot.Add.ScatterPoints(x, y, color.WithAlpha(alpha));
        points.MarkerShape = MarkerShape.FilledCircle;
        points.MarkerSize = size;
        if (edge)
        {
            points.MarkerStyle.OutlineColor = Colors.White.WithAlpha(alpha);
            points.MarkerStyle.OutlineWidth = 0.8f;
        }
        if (name is not null) points.LegendText = name;
        return points;
    }

    /// <summary>One scatter layer per class, labelled "class k", in the palette's colours.</summary>
    private static void ClassLayers(Plot plot, float[] xy, int[] labels, int classes, float size)
    {
        var (x, y) = Split(xy, nameof(xy));
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != x.Length) throw new ArgumentException($"{x.Length} points but {labels.Length} labels.", nameof(labels));
        for (int c = 0; c < classes; c++)
        {
            var idx = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            Points(plot, [.. idx.Select(i => x[i])], [.. idx.Select(i => y[i])], Style.Class(c), $"class {c}", size);
        }
    }

    /// <summary>Marker diameter that keeps thousands of points readable and a few dozen visible.</summary>
    private static float PointSize(int count) => count switch
    {
        <= 200 => 9,
        <= 1000 => 7.6f,
        <= 4000 => 6.4f,
        _ => 5,
    };

    /// <summary>
    /// Shows the legend in the corner that covers the fewest data points (matplotlib's "best", in its order of
    /// preference on ties: upper right, upper left, lower left, lower right). A corner is the 45% x 35% of the data's
    /// extent (or of the given limits) that a legend of a few lines covers.
    /// </summary>
    private static void BestLegend(Plot plot, IEnumerable<(double X, double Y)> points, (double Min, double Max)? yLimits = null)
    {
        var finite = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var corner = Alignment.UpperRight;
        if (finite.Count > 0)
        {
            double x0 = finite.Min(p => p.X), x1 = finite.Max(p => p.X);
            var (y0, y1) = yLimits ?? (finite.Min(p => p.Y), finite.Max(p => p.Y));
            double U(double x) => x1 > x0 ? (x - x0) / (x1 - x0) : 0.5;
            double V(double y) => y1 > y0 ? (y - y0) / (y1 - y0) : 0.5;
            var candidates = new (Alignment Where, Func<double, double, bool> Covers)[]
            {
                (Alignment.UpperRight, (u, v) => u > 0.55 && v > 0.65),
                (Alignment.UpperLeft, (u, v) => u < 0.45 && v > 0.65),
                (Alignment.LowerLeft, (u, v) => u < 0.45 && v < 0.35),
                (Alignment.LowerRight, (u, v) => u > 0.55 && v < 0.35),
            };
            corner = candidates.MinBy(c => finite.Count(p => c.Covers(U(p.X), V(p.Y)))).Where;
        }
        plot.ShowLegend(corner);
    }

    private static void Labels(Plot plot, string? title, string? xLabel, string? yLabel)
    {
        if (title is not null) plot.Title(title, Style.TitleSize);
        if (xLabel is not null) plot.XLabel(xLabel, Style.LabelSize);
        if (yLabel is not null) plot.YLabel(yLabel, Style.LabelSize);
        // Title() and the label setters take their own sizes and boldness: restore the house style.
        plot.Axes.Title.Label.Bold = false;
        plot.Axes.Bottom.Label.Bold = false;
        plot.Axes.Left.Label.Bold = false;
    }

    /// <summary>A value with three significant digits, thousands without separators (1234, 56.7, 0.0123).</summary>
    public static string Compact(double value, int significant = 3)
    {
        if (value == 0 || !double.IsFinite(value)) return value == 0 ? "0" : value.ToString(CultureInfo.InvariantCulture);
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        if (magnitude >= 6 || magnitude < -4) return value.ToString("0.##e0", CultureInfo.InvariantCulture).Replace('-', '\u2212');
        int decimals = Math.Max(0, significant - 1 - magnitude);
        // Halves round away from zero, as the tables' numbers do (40.25 reads 40.3 in both).
        return Math.Round(value, decimals, MidpointRounding.AwayFromZero).ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture).Replace('-', '\u2212');
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
