using ScottPlot;

namespace Lab.Figures;

// Two-dimensional toy data: the points by class, the decision regions of a classifier, a regression fit.
public static partial class Plots
{
    /// <summary>
    /// The data coloured by class. <paramref name="xy"/> holds n interleaved points, <paramref name="labels"/> their
    /// classes 0..k-1; the legend lists "class 0" .. "class k-1" (<paramref name="classCount"/> 0 = from the labels).
    /// </summary>
    public static Figure ClassScatter(float[] xy, int[] labels, string title = "Data", int classCount = 0, int width = 640, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, "x\u2081", "x\u2082");
        ClassLayers(plot, xy, labels, ClassCount(classCount, labels), PointSize(labels.Length));
        var (x, y) = Split(xy, nameof(xy));
        BestLegend(plot, x.Zip(y));
        return figure;
    }

    /// <summary>
    /// Decision regions of a classifier with the points on top and a colour bar of the classes.
    /// <paramref name="classGrid"/>[i, j] is the predicted class (argmax) at x = the j-th of its columns spread evenly
    /// over <paramref name="xRange"/> and y = the i-th of its rows over <paramref name="yRange"/>, row 0 at the bottom
    /// (y = yRange.Min), as a loop "for each y, for each x" fills it. The axes show exactly the ranges.
    /// </summary>
    public static Figure DecisionRegions(int[,] classGrid, (double Min, double Max) xRange, (double Min, double Max) yRange,
        float[] xy, int[] labels, string title = "Decision regions", int classCount = 0, int width = 640, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(classGrid);
        ArgumentNullException.ThrowIfNull(labels);
        if (!(xRange.Max > xRange.Min) || !(yRange.Max > yRange.Min)) throw new ArgumentException($"Empty range: x {xRange}, y {yRange}.");
        int rows = classGrid.GetLength(0), cols = classGrid.GetLength(1);
        if (rows == 0 || cols == 0) throw new ArgumentException("The class grid is empty.", nameof(classGrid));
        int classes = ClassCount(classCount, labels);
        foreach (int c in classGrid) classes = ClassCount(classes, c);

        // Regions in the class colours washed toward white, so the points on top keep their full colours.
        var regionColors = Enumerable.Range(0, classes).Select(c => Colormap.Mix(Style.Class(c), Colors.White, 0.55)).ToArray();
        var intensities = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) intensities[rows - 1 - i, j] = classGrid[i, j]; // heat maps draw row 0 at the top

        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, "x\u2081", "x\u2082");
        var regions = plot.Add.Heatmap(intensities);
        regions.Colormap = new Colormap("classes", regionColors, steps: true);
        regions.ManualRange = new ScottPlot.Range(-0.5, classes - 0.5);
        regions.Rectangle = new CoordinateRect(xRange.Min, xRange.Max, yRange.Min, yRange.Max);
        ClassLayers(plot, xy, labels, classes, PointSize(labels.Length));
        var bar = Style.ColorBar(plot, regions, "predicted class");
        bar.Axis.TickGenerator = Style.Ticks(Enumerable.Range(0, classes).Select(c => (double)c));
        plot.Axes.SetLimits(xRange.Min, xRange.Max, yRange.Min, yRange.Max);
        plot.HideGrid();
        var (px, py) = Split(xy, nameof(xy));
        BestLegend(plot, px.Zip(py), yRange);
        return figure;
    }

    /// <summary>A regression: the noisy samples as points and the model's curve as a line.</summary>
    public static Figure Fit(float[] x, float[] y, float[] curveX, float[] curveY, string title = "Regression",
        string dataLabel = "data", string curveLabel = "model", int width = 640, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(curveX);
        ArgumentNullException.ThrowIfNull(curveY);
        if (x.Length != y.Length || curveX.Length != curveY.Length)
            throw new ArgumentException($"x and y differ in length ({x.Length}, {y.Length}) or the curve's do ({curveX.Length}, {curveY.Length}).");
        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, "x", "y");
        Points(plot, [.. x.Select(v => (double)v)], [.. y.Select(v => (double)v)], Style.Class(0), dataLabel, PointSize(x.Length) * 0.85f, 0.7);
        var curve = plot.Add.ScatterLine(curveX.Select(v => (double)v).ToArray(), curveY.Select(v => (double)v).ToArray(), Style.Class(1));
        curve.LineWidth = 2.5f;
        curve.LegendText = curveLabel;
        BestLegend(plot, x.Zip(y, (a, b) => ((double)a, (double)b)).Concat(curveX.Zip(curveY, (a, b) => ((double)a, (double)b))));
        return figure;
    }
}
