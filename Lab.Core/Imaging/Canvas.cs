namespace Lab.Core.Imaging;

/// <summary>The shape drawn at each point of a scatter layer or at the vertices of a line.</summary>
public enum Marker
{
    None,
    Circle,
    Square,
    Triangle,
    Diamond,
}

internal enum HAlign
{
    Left,
    Center,
    Right,
}

internal enum VAlign
{
    Baseline,
    Top,
    Middle,
    Bottom,
}

/// <summary>
/// What a writer must be able to draw, in pixels with y down. The figure model lays everything out once and
/// replays it on a canvas, so SVG and PNG show the same picture.
/// </summary>
internal interface ICanvas
{
    void FillRect(double x, double y, double width, double height, Color fill);

    void StrokeRect(double x, double y, double width, double height, Color stroke, double lineWidth);

    /// <summary>A polyline through pixel points; a NaN point breaks it into pieces.</summary>
    void Polyline(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Color stroke, double lineWidth, bool dashed = false);

    /// <summary>The same marker at every point, filled, with an optional edge.</summary>
    void Markers(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Marker shape, double radius, Color fill, Color? edge, double edgeWidth);

    /// <summary>One line of text anchored at (x, y); when <paramref name="vertical"/> it reads bottom to top and
    /// the alignments refer to the rotated text.</summary>
    void Text(string text, double x, double y, double size, Color color, HAlign h, VAlign v, bool bold = false, bool vertical = false);

    /// <summary>An image stretched over the rectangle, pixels kept sharp unless <paramref name="smooth"/>.</summary>
    void Image(Raster image, double x, double y, double width, double height, bool smooth);

    void PushClip(double x, double y, double width, double height);

    void PopClip();
}

internal static class CanvasExtensions
{
    public static void Line(this ICanvas canvas, double x1, double y1, double x2, double y2, Color stroke, double lineWidth, bool dashed = false) =>
        canvas.Polyline([x1, x2], [y1, y2], stroke, lineWidth, dashed);

    /// <summary>Moves a coordinate to the middle of a pixel so a 1-px line covers one pixel row instead of two
    /// half-grey ones.</summary>
    public static double Crisp(double v) => Math.Floor(v) + 0.5;

    /// <summary>The baseline offset that puts text of <paramref name="size"/> at the requested vertical anchor;
    /// cap height stands in for the glyph box, which is what numbers and labels mostly are.</summary>
    public static double BaselineOffset(VAlign v, double size) => v switch
    {
        VAlign.Top => TextMetrics.CapHeight * size,
        VAlign.Middle => TextMetrics.CapHeight * size / 2,
        VAlign.Bottom => -TextMetrics.Descent * size,
        _ => 0,
    };

    /// <summary>The vertices of a marker polygon around (0, 0), or null for a circle.</summary>
    public static (double X, double Y)[]? Polygon(Marker shape, double r) => shape switch
    {
        Marker.Square => [(-r * 0.89, -r * 0.89), (r * 0.89, -r * 0.89), (r * 0.89, r * 0.89), (-r * 0.89, r * 0.89)],
        Marker.Triangle => [(0, -r * 1.15), (r, r * 0.58), (-r, r * 0.58)],
        Marker.Diamond => [(0, -r * 1.2), (r * 0.9, 0), (0, r * 1.2), (-r * 0.9, 0)],
        _ => null,
    };
}
