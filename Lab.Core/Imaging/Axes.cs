namespace Lab.Core.Imaging;

/// <summary>Where an axes puts its legend. Best picks the inside corner covering the fewest data points.</summary>
public enum LegendLocation
{
    Best,
    UpperRight,
    UpperLeft,
    LowerLeft,
    LowerRight,
    OutsideRight,
    None,
}

/// <summary>
/// One panel of a figure: layers in data coordinates, axis limits (fixed or fitted to the data), nice ticks, grid,
/// labels, title, legend and an optional colour bar. Hidden axes draw only their layers and title (sample grids).
/// </summary>
public sealed partial class Axes
{
    private readonly List<Layer> _layers = [];

    internal Axes()
    {
    }

    public string? Title { get; set; }
    public string? XLabel { get; set; }
    public string? YLabel { get; set; }
    /// <summary>Fixed x limits; null fits the data with a 5% margin.</summary>
    public (double Min, double Max)? XLimits { get; set; }
    /// <summary>Fixed y limits; null fits the data with a 5% margin.</summary>
    public (double Min, double Max)? YLimits { get; set; }
    /// <summary>No frame, ticks, labels or grid: only layers and the title.</summary>
    public bool Hidden { get; set; }
    /// <summary>Draw the frame even when <see cref="Hidden"/> (a thin border around a digit).</summary>
    public bool Framed { get; set; }
    public bool XGrid { get; set; } = true;
    public bool YGrid { get; set; } = true;
    /// <summary>Sets both grids.</summary>
    public bool Grid
    {
        get => XGrid || YGrid;
        set => (XGrid, YGrid) = (value, value);
    }
    /// <summary>Same pixels per unit on both axes (images, scatter of 2-D data).</summary>
    public bool EqualAspect { get; set; }
    public bool LogY { get; set; }
    /// <summary>y grows downward (matrix rows).</summary>
    public bool InvertY { get; set; }
    public LegendLocation Legend { get; set; } = LegendLocation.Best;
    /// <summary>Explicit ticks (categories); null picks nice numbers.</summary>
    public IReadOnlyList<Tick>? XTicks { get; set; }
    public IReadOnlyList<Tick>? YTicks { get; set; }
    public ColorBar? ColorBar { get; set; }
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Adds any layer; the others below are shortcuts that build one.</summary>
    public T Add<T>(T layer) where T : Layer
    {
        ArgumentNullException.ThrowIfNull(layer);
        _layers.Add(layer);
        return layer;
    }

    public ScatterLayer Scatter(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Color color, string? label = null) =>
        Add(new ScatterLayer(x.ToArray(), y.ToArray(), color) { Label = label });

    public ScatterLayer Scatter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Color color, string? label = null) =>
        Scatter(ToDouble(x), ToDouble(y), color, label);

    public LineLayer Line(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Color color, string? label = null) =>
        Add(new LineLayer(x.ToArray(), y.ToArray(), color) { Label = label });

    public LineLayer Line(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Color color, string? label = null) =>
        Line(ToDouble(x), ToDouble(y), color, label);

    /// <summary>A raster over the data rectangle; its first row is drawn at <paramref name="top"/>.</summary>
    public ImageLayer Image(Raster image, double left, double right, double bottom, double top) =>
        Add(new ImageLayer(image, left, right, bottom, top));

    /// <summary>A matrix shown as printed: cell (r, c) is a unit square centred on (c, r), row 0 at the top
    /// (this inverts the y axis), colours from <paramref name="map"/> over [<paramref name="min"/>,
    /// <paramref name="max"/>]; NaN cells stay transparent.</summary>
    public ImageLayer Heatmap(double[,] values, Colormap map, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(map);
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var raster = new Raster(cols, rows, PixelFormat.Rgba);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                raster[c, r] = map.Map(values[r, c], min, max);
            }
        }
        InvertY = true;
        return Image(raster, -0.5, cols - 0.5, rows - 0.5, -0.5);
    }

    /// <summary>Grouped bars: <paramref name="values"/>[series][group]; group g is centred on x = g.</summary>
    public BarLayer Bars(IReadOnlyList<string> seriesNames, IReadOnlyList<IReadOnlyList<double>> values, IReadOnlyList<Color>? colors = null)
    {
        ArgumentNullException.ThrowIfNull(seriesNames);
        ArgumentNullException.ThrowIfNull(values);
        return Add(new BarLayer(seriesNames, [.. values.Select(v => v.ToArray())], colors ?? Palette.Deep));
    }

    /// <summary>Text centred on a data point.</summary>
    public TextLayer Text(double x, double y, string text, Color? color = null, double size = Style.TickSize) =>
        Add(new TextLayer(x, y, text, color ?? Palette.Text, size));

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }
        return result;
    }
}

/// <summary>A colour scale beside an axes: continuous (a colormap between two values) or one block per class.</summary>
public sealed class ColorBar
{
    private ColorBar(Colormap? map, double min, double max, IReadOnlyList<Color>? colors, IReadOnlyList<string>? labels, string? label)
    {
        (Map, Min, Max, ClassColors, ClassLabels, Label) = (map, min, max, colors, labels, label);
    }

    public Colormap? Map { get; }
    public double Min { get; }
    public double Max { get; }
    public IReadOnlyList<Color>? ClassColors { get; }
    public IReadOnlyList<string>? ClassLabels { get; }
    public string? Label { get; set; }

    public static ColorBar Continuous(Colormap map, double min, double max, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new ColorBar(map, min, max, null, null, label);
    }

    /// <summary>One block per class, class 0 at the bottom.</summary>
    public static ColorBar Classes(IReadOnlyList<Color> colors, IReadOnlyList<string> labels, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(colors);
        ArgumentNullException.ThrowIfNull(labels);
        if (colors.Count != labels.Count || colors.Count == 0)
        {
            throw new ArgumentException("A class colour bar needs one label per colour.");
        }
        return new ColorBar(null, 0, colors.Count, colors, labels, label);
    }
}
