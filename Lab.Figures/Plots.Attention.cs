using ScottPlot;

namespace Lab.Figures;

/// <summary>
/// One attention map: the weights [target steps, source steps] (each row a distribution over the source), the labels
/// of the source steps (x) and of the target steps (y), and a panel title.
/// </summary>
public sealed record AttentionMap(string Title, IReadOnlyList<string> Source, IReadOnlyList<string> Target, double[,] Weights);

public static partial class Plots
{
    /// <summary>
    /// Attention heat maps, one panel per example in a grid of <paramref name="columns"/>: source steps left to right,
    /// target steps top to bottom (the first output at the top, as matplotlib's imshow draws a matrix), weights from 0
    /// (white) to 1 (dark blue), every step labelled with its character.
    /// </summary>
    public static Figure AttentionMaps(IReadOnlyList<AttentionMap> maps, string title, int columns = 3, int panelWidth = 420, int panelHeight = 300)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Count == 0) throw new ArgumentException("AttentionMaps: no maps to draw.", nameof(maps));
        foreach (var m in maps)
            if (m.Weights.GetLength(0) != m.Target.Count || m.Weights.GetLength(1) != m.Source.Count)
                throw new ArgumentException($"AttentionMaps: '{m.Title}' has weights {m.Weights.GetLength(0)}x{m.Weights.GetLength(1)} " +
                    $"for {m.Target.Count} target and {m.Source.Count} source labels.", nameof(maps));
        columns = Math.Min(columns, maps.Count);
        int rows = (maps.Count + columns - 1) / columns;
        var figure = new Figure(columns * panelWidth, rows * panelHeight + 40, rows, columns) { Title = title };
        for (int k = 0; k < rows * columns; k++)
        {
            var (r, c) = (k / columns, k % columns);
            if (k >= maps.Count) { figure.SetEmpty(r, c); continue; }
            var m = maps[k];
            var plot = figure[r, c];
            Labels(plot, m.Title, null, null);
            var (T, S) = (m.Target.Count, m.Source.Count);
            var heat = plot.Add.Heatmap(m.Weights);
            heat.Colormap = Colormap.Blues;
            heat.ManualRange = new ScottPlot.Range(0, 1);
            heat.Rectangle = new CoordinateRect(-0.5, S - 0.5, -0.5, T - 0.5);
            plot.Axes.Bottom.TickGenerator = Style.Ticks(Enumerable.Range(0, S).Select(i => (double)i), p => m.Source[(int)Math.Round(p)]);
            plot.Axes.Left.TickGenerator = Style.Ticks(Enumerable.Range(0, T).Select(i => (double)i), p => m.Target[T - 1 - (int)Math.Round(p)]);
            plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
            plot.Axes.Left.TickLabelStyle.FontSize = 11;
            plot.Axes.SetLimits(-0.5, S - 0.5, -0.5, T - 0.5);
            plot.HideGrid();
        }
        return figure;
    }
}
