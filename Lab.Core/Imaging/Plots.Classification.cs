namespace Lab.Core.Imaging;

// Two-dimensional toy data: the points by class, the decision regions of a classifier, a regression fit.
public static partial class Plots
{
    /// <summary>
    /// The data coloured by class. <paramref name="xy"/> holds n interleaved points, <paramref name="labels"/>
    /// their classes 0..k-1; the legend lists "class 0" .. "class k-1" (<paramref name="classCount"/> 0 = from
    /// the labels).
    /// </summary>
    public static Figure ClassScatter(float[] xy, int[] labels, string title = "Data", int classCount = 0, int width = 640, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.XLabel = "x\u2081";
        axes.YLabel = "x\u2082";
        ClassLayers(axes, xy, labels, ClassCount(classCount, labels), PointRadius(labels.Length));
        return figure;
    }

    /// <summary>
    /// Decision regions of a classifier with the points on top and a colour bar of the classes.
    /// <paramref name="classGrid"/>[i, j] is the predicted class (argmax) at x = the j-th of its columns spread
    /// evenly over <paramref name="xRange"/> and y = the i-th of its rows over <paramref name="yRange"/>, row 0 at
    /// the bottom (y = yRange.Min), as a loop "for each y, for each x" fills it. The axes show exactly the ranges.
    /// </summary>
    public static Figure DecisionRegions(int[,] classGrid, (double Min, double Max) xRange, (double Min, double Max) yRange,
        float[] xy, int[] labels, string title = "Decision regions", int classCount = 0, int width = 640, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(classGrid);
        ArgumentNullException.ThrowIfNull(labels);
        if (!(xRange.Max > xRange.Min) || !(yRange.Max > yRange.Min))
        {
            throw new ArgumentException($"Empty range: x {xRange}, y {yRange}.");
        }
        int rows = classGrid.GetLength(0), cols = classGrid.GetLength(1);
        int classes = ClassCount(classCount, labels);
        foreach (int c in classGrid)
        {
            classes = ClassCount(classes, c);
        }

        // Regions in the class colours washed toward white, so the points on top keep their full colours.
        var regionColors = Enumerable.Range(0, classes).Select(c => Palette.Class(c).Mix(Color.White, 0.55)).ToArray();
        var raster = new Raster(cols, rows, PixelFormat.Rgb);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                raster[j, rows - 1 - i] = regionColors[classGrid[i, j]];
            }
        }

        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.XLabel = "x\u2081";
        axes.YLabel = "x\u2082";
        axes.Image(raster, xRange.Min, xRange.Max, yRange.Min, yRange.Max).Smooth = true;
        axes.XLimits = xRange;
        axes.YLimits = yRange;
        axes.Grid = false;
        ClassLayers(axes, xy, labels, classes, PointRadius(labels.Length));
        axes.ColorBar = ColorBar.Classes(regionColors, [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))], "predicted class");
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
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.XLabel = "x";
        axes.YLabel = "y";
        var points = axes.Scatter(x, y, Palette.Class(0), dataLabel);
        points.Radius = PointRadius(x.Length) * 0.85;
        points.Alpha = 0.7;
        axes.Line(curveX, curveY, Palette.Class(1), curveLabel).Width = 2.5;
        return figure;
    }
}
