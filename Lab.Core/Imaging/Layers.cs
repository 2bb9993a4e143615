namespace Lab.Core.Imaging;

/// <summary>A data extent and the edges autoscaling must not pad past (an image's border, a bar's base).</summary>
internal readonly record struct DataBounds(double XMin, double XMax, double YMin, double YMax)
{
    public IReadOnlyList<double> StickyX { get; init; } = [];
    public IReadOnlyList<double> StickyY { get; init; } = [];
}

/// <summary>What a legend row shows for a layer.</summary>
internal readonly record struct LegendEntry(string Label, Color Color, Marker Marker, bool Line, bool Patch, bool Dashed = false);

/// <summary>Something drawn inside an axes, in data coordinates.</summary>
public abstract class Layer
{
    /// <summary>Shown in the legend when set.</summary>
    public string? Label { get; set; }

    internal abstract DataBounds? Bounds(AxesTransform t);

    internal abstract void Draw(ICanvas canvas, AxesTransform t);

    internal virtual IEnumerable<LegendEntry> Legend() => [];

    /// <summary>Points the legend should avoid covering, in pixels.</summary>
    internal virtual IEnumerable<(double X, double Y)> Occupied(AxesTransform t) => [];

    private protected static DataBounds? BoundsOf(double[] xs, double[] ys, AxesTransform t)
    {
        double x0 = double.PositiveInfinity, x1 = double.NegativeInfinity, y0 = double.PositiveInfinity, y1 = double.NegativeInfinity;
        for (int i = 0; i < xs.Length; i++)
        {
            if (!t.Valid(xs[i], ys[i]))
            {
                continue;
            }
            (x0, x1, y0, y1) = (Math.Min(x0, xs[i]), Math.Max(x1, xs[i]), Math.Min(y0, ys[i]), Math.Max(y1, ys[i]));
        }
        return x0 <= x1 ? new DataBounds(x0, x1, y0, y1) : null;
    }

    private protected static IEnumerable<(double X, double Y)> Pixels(double[] xs, double[] ys, AxesTransform t)
    {
        for (int i = 0; i < xs.Length; i++)
        {
            if (t.Valid(xs[i], ys[i]))
            {
                yield return (t.X(xs[i]), t.Y(ys[i]));
            }
        }
    }
}

/// <summary>A series of (x, y) points in one colour: what scatter and line layers share.</summary>
public abstract class PointsLayer : Layer
{
    private protected PointsLayer(double[] xs, double[] ys, Color color)
    {
        if (xs.Length != ys.Length)
        {
            throw new ArgumentException($"{xs.Length} x values but {ys.Length} y values.");
        }
        (Xs, Ys, Color) = (xs, ys, color);
    }

    internal double[] Xs { get; }
    internal double[] Ys { get; }
    public Color Color { get; set; }

    internal override DataBounds? Bounds(AxesTransform t) => BoundsOf(Xs, Ys, t);
}

/// <summary>Points with one colour and marker.</summary>
public sealed class ScatterLayer : PointsLayer
{
    internal ScatterLayer(double[] xs, double[] ys, Color color) : base(xs, ys, color) { }

    public Marker Marker { get; set; } = Marker.Circle;
    /// <summary>Marker radius in pixels.</summary>
    public double Radius { get; set; } = 3.5;
    /// <summary>Opacity of the fill, 0..1.</summary>
    public double Alpha { get; set; } = 1;
    /// <summary>An outline around each marker (seaborn draws white ones so overlapping points stay apart).</summary>
    public Color? EdgeColor { get; set; } = Color.White;
    public double EdgeWidth { get; set; } = 0.6;

    internal override void Draw(ICanvas canvas, AxesTransform t)
    {
        var (px, py) = t.Map(Xs, Ys);
        canvas.Markers(px, py, Marker, Radius, Color.WithAlpha(Alpha * Color.A / 255.0), EdgeColor, EdgeWidth);
    }

    internal override IEnumerable<LegendEntry> Legend() =>
        Label is null ? [] : [new LegendEntry(Label, Color, Marker == Marker.None ? Marker.Circle : Marker, false, false)];

    internal override IEnumerable<(double X, double Y)> Occupied(AxesTransform t) => Pixels(Xs, Ys, t);
}

/// <summary>A line through points in order, optionally with markers at the points.</summary>
public sealed class LineLayer : PointsLayer
{
    internal LineLayer(double[] xs, double[] ys, Color color) : base(xs, ys, color) { }

    public double Width { get; set; } = 2;
    public bool Dashed { get; set; }
    public Marker Marker { get; set; } = Marker.None;
    public double MarkerRadius { get; set; } = 4;

    internal override void Draw(ICanvas canvas, AxesTransform t)
    {
        var (px, py) = t.Map(Xs, Ys);
        canvas.Polyline(px, py, Color, Width, Dashed);
        if (Marker != Marker.None)
        {
            canvas.Markers(px, py, Marker, MarkerRadius, Color, Color.White, 0.8);
        }
    }

    internal override IEnumerable<LegendEntry> Legend() => Label is null ? [] : [new LegendEntry(Label, Color, Marker, true, false, Dashed)];

    internal override IEnumerable<(double X, double Y)> Occupied(AxesTransform t)
    {
        // Sample along the segments too, so a legend does not sit on a line between sparse points.
        var (px, py) = t.Map(Xs, Ys);
        for (int i = 0; i < px.Length; i++)
        {
            if (double.IsNaN(px[i]) || double.IsNaN(py[i]))
            {
                continue;
            }
            yield return (px[i], py[i]);
            if (i + 1 < px.Length && !double.IsNaN(px[i + 1]) && !double.IsNaN(py[i + 1]))
            {
                for (int k = 1; k < 8; k++)
                {
                    yield return (px[i] + (px[i + 1] - px[i]) * k / 8, py[i] + (py[i + 1] - py[i]) * k / 8);
                }
            }
        }
    }
}

/// <summary>
/// A raster stretched over a rectangle in data coordinates: heat maps, digits, decision regions. As in
/// matplotlib's imshow, the raster's first row is drawn at <see cref="Top"/> and its first column at
/// <see cref="Left"/>; Top may be below Bottom (matrix style, row 0 up on an inverted axis).
/// </summary>
public sealed class ImageLayer : Layer
{
    internal ImageLayer(Raster image, double left, double right, double bottom, double top)
    {
        Image = image;
        (Left, Right, Bottom, Top) = (left, right, bottom, top);
    }

    public Raster Image { get; }
    public double Left { get; }
    public double Right { get; }
    public double Bottom { get; }
    public double Top { get; }
    /// <summary>Interpolate between pixels (decision regions) instead of showing sharp cells (digits).</summary>
    public bool Smooth { get; set; }

    internal override DataBounds? Bounds(AxesTransform t) =>
        new DataBounds(Math.Min(Left, Right), Math.Max(Left, Right), Math.Min(Bottom, Top), Math.Max(Bottom, Top))
        {
            StickyX = [Left, Right],
            StickyY = [Bottom, Top],
        };

    internal override void Draw(ICanvas canvas, AxesTransform t)
    {
        double x0 = t.X(Left), x1 = t.X(Right), y0 = t.Y(Top), y1 = t.Y(Bottom);
        var image = Image;
        if (x1 < x0 || y1 < y0)
        {
            image = Flip(image, x1 < x0, y1 < y0);
        }
        canvas.Image(image, Math.Min(x0, x1), Math.Min(y0, y1), Math.Abs(x1 - x0), Math.Abs(y1 - y0), Smooth);
    }

    private static Raster Flip(Raster source, bool horizontal, bool vertical)
    {
        var flipped = new Raster(source.Width, source.Height, source.Format);
        int c = source.Channels;
        for (int y = 0; y < source.Height; y++)
        {
            for (int x = 0; x < source.Width; x++)
            {
                int sx = horizontal ? source.Width - 1 - x : x, sy = vertical ? source.Height - 1 - y : y;
                Array.Copy(source.Pixels, (sy * source.Width + sx) * c, flipped.Pixels, (y * source.Width + x) * c, c);
            }
        }
        return flipped;
    }
}

/// <summary>
/// Grouped bars: group g is centred on x = g, its series side by side within <see cref="GroupWidth"/>. On a
/// log axis bars grow from the bottom of the axis; NaN values leave a gap.
/// </summary>
public sealed class BarLayer : Layer
{
    internal BarLayer(IReadOnlyList<string> seriesNames, double[][] values, IReadOnlyList<Color> colors)
    {
        (SeriesNames, Values, Colors) = (seriesNames, values, colors);
        GroupCount = values.Length == 0 ? 0 : values[0].Length;
        if (values.Any(v => v.Length != GroupCount))
        {
            throw new ArgumentException("Every series needs one value per group.");
        }
    }

    public IReadOnlyList<string> SeriesNames { get; }
    internal double[][] Values { get; }
    public IReadOnlyList<Color> Colors { get; }
    public int GroupCount { get; }
    /// <summary>The share of the space between group centres that the bars of a group fill.</summary>
    public double GroupWidth { get; set; } = 0.8;
    /// <summary>Per-bar colours of a single series (e.g. the predicted class highlighted).</summary>
    public IReadOnlyList<Color>? BarColors { get; set; }
    /// <summary>Write each value above its bar in this form (e.g. v => v.ToString("F2")).</summary>
    public Func<double, string>? ValueLabels { get; set; }

    internal override DataBounds? Bounds(AxesTransform t)
    {
        double y0 = t.LogY ? double.PositiveInfinity : 0, y1 = t.LogY ? double.NegativeInfinity : 0;
        foreach (var series in Values)
        {
            foreach (double v in series)
            {
                if (double.IsFinite(v) && (!t.LogY || v > 0))
                {
                    (y0, y1) = (Math.Min(y0, v), Math.Max(y1, v));
                }
            }
        }
        if (GroupCount == 0 || y0 > y1)
        {
            return null;
        }
        return new DataBounds(-0.5, GroupCount - 0.5, y0, y1) { StickyX = [-0.5, GroupCount - 0.5], StickyY = t.LogY ? [] : [0] };
    }

    internal override void Draw(ICanvas canvas, AxesTransform t)
    {
        int s = Values.Length;
        double width = GroupWidth / s;
        double basePixel = t.LogY ? t.Bottom : t.Y(0);
        for (int k = 0; k < s; k++)
        {
            for (int g = 0; g < GroupCount; g++)
            {
                double v = Values[k][g];
                if (!double.IsFinite(v) || (t.LogY && v <= 0))
                {
                    continue;
                }
                double left = g - GroupWidth / 2 + k * width;
                double x0 = t.X(left), x1 = t.X(left + width), y = t.Y(v);
                var color = s == 1 && BarColors is { } bc && g < bc.Count ? bc[g] : Colors[k % Colors.Count];
                canvas.FillRect(x0, Math.Min(y, basePixel), x1 - x0, Math.Abs(basePixel - y), color);
                if (ValueLabels is not null)
                {
                    double size = Math.Min(11, Math.Max(8, (x1 - x0) * 0.45));
                    canvas.Text(ValueLabels(v), (x0 + x1) / 2, Math.Min(y, basePixel) - 3, size, Palette.Text, HAlign.Center, VAlign.Bottom);
                }
            }
        }
    }

    internal override IEnumerable<LegendEntry> Legend() =>
        SeriesNames.Select((n, k) => new LegendEntry(n, Colors[k % Colors.Count], Marker.None, false, true));

    internal override IEnumerable<(double X, double Y)> Occupied(AxesTransform t)
    {
        int s = Values.Length;
        for (int k = 0; k < s; k++)
        {
            for (int g = 0; g < GroupCount; g++)
            {
                double v = Values[k][g];
                if (!double.IsFinite(v) || (t.LogY && v <= 0))
                {
                    continue;
                }
                double x = t.X(g - GroupWidth / 2 + (k + 0.5) * GroupWidth / s);
                double top = t.Y(v), bottom = t.LogY ? t.Bottom : t.Y(0);
                for (int i = 0; i <= 10; i++)
                {
                    yield return (x, top + (bottom - top) * i / 10);
                }
            }
        }
    }
}

/// <summary>Text at a point in data coordinates (centred), e.g. the counts in a confusion matrix.</summary>
public sealed class TextLayer : Layer
{
    internal TextLayer(double x, double y, string text, Color color, double size)
    {
        (X, Y, Text, Color, Size) = (x, y, text, color, size);
    }

    public double X { get; }
    public double Y { get; }
    public string Text { get; }
    public Color Color { get; set; }
    public double Size { get; set; }
    public bool Bold { get; set; }

    internal override DataBounds? Bounds(AxesTransform t) => null;

    internal override void Draw(ICanvas canvas, AxesTransform t) =>
        canvas.Text(Text, t.X(X), t.Y(Y), Size, Color, HAlign.Center, VAlign.Middle, Bold);
}
