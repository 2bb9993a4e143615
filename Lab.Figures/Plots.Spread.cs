using ScottPlot;

namespace Lab.Figures;

/// <summary>
/// One metric over several runs (seeds): its mean with the sample standard deviation, every run's value, and
/// optionally a reference to read it against (e.g. the real-versus-real distance beside a Fréchet distance).
/// A NaN <paramref name="Std"/> (one run) draws the mean without a bar.
/// </summary>
public sealed record MetricSpread(string Name, double Mean, double Std, IReadOnlyList<double> Values, MetricReference? Reference = null);

/// <summary>A value a metric is read against, with its own spread, labelled on the x axis.</summary>
public sealed record MetricReference(string Label, double Mean, double Std);

public static partial class Plots
{
    /// <summary>
    /// One panel per metric (up to four a row): at "mean ± sd" the mean as a large marker with a ± one standard
    /// deviation error bar, at "runs" each run's value (spread sideways so equal values stay visible), and at the
    /// reference's label its mean and bar in grey.
    /// </summary>
    public static Figure Spread(IReadOnlyList<MetricSpread> metrics, string title, string runsLabel = "seeds", int panelWidth = 260, int panelHeight = 300)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (metrics.Count == 0) throw new ArgumentException("Plots.Spread needs at least one metric.", nameof(metrics));
        if (metrics.FirstOrDefault(m => m.Values.Count == 0) is { } empty)
            throw new ArgumentException($"Plots.Spread: metric '{empty.Name}' has no values.", nameof(metrics));
        int columns = Math.Min(4, metrics.Count), rows = (metrics.Count + columns - 1) / columns;
        // A single panel is widened for the title.
        var figure = new Figure(Math.Max(panelWidth * columns, 420), panelHeight * rows + 30, rows, columns) { Title = title };
        for (int i = 0; i < rows * columns; i++)
        {
            int row = i / columns, column = i % columns;
            if (i >= metrics.Count) { figure.SetEmpty(row, column); continue; }
            var m = metrics[i];
            var plot = figure[row, column];
            Labels(plot, m.Name, null, null);
            var labels = new List<string> { "mean ± sd", runsLabel };
            MeanWithBar(plot, 0, m.Mean, m.Std, Style.Class(0));
            int n = m.Values.Count;
            var x = Enumerable.Range(0, n).Select(k => 1 + (n == 1 ? 0 : 0.3 * (k / (double)(n - 1) - 0.5))).ToArray();
            Points(plot, x, [.. m.Values], Style.Class(1), null, 8);
            if (m.Reference is { } reference)
            {
                MeanWithBar(plot, 2, reference.Mean, reference.Std, Style.Grey(110));
                labels.Add(reference.Label);
            }
            plot.Axes.Bottom.TickGenerator = Style.Ticks(Enumerable.Range(0, labels.Count).Select(k => (double)k), p => labels[(int)Math.Round(p)]);
            plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
            var all = m.Values.Concat([m.Mean - Finite(m.Std), m.Mean + Finite(m.Std)])
                .Concat(m.Reference is { } r ? [r.Mean - Finite(r.Std), r.Mean + Finite(r.Std)] : []).Where(double.IsFinite).ToList();
            double low = all.DefaultIfEmpty(0).Min(), high = all.DefaultIfEmpty(1).Max(), pad = Math.Max((high - low) * 0.12, Math.Abs(high) * 0.02 + 1e-9);
            plot.Axes.SetLimits(-0.6, labels.Count - 0.4, low - pad, high + pad);
        }
        return figure;
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    /// <summary>The mean as a large marker and, when there is a spread, a vertical bar of ± one standard deviation with caps.</summary>
    private static void MeanWithBar(Plot plot, double x, double mean, double std, Color color)
    {
        if (double.IsFinite(std))
        {
            var bar = plot.Add.ErrorBar([x], [mean], [std]);
            bar.Color = color;
            bar.LineWidth = 2;
            bar.CapSize = 10;
        }
        Points(plot, [x], [mean], color, null, 12);
    }
}
