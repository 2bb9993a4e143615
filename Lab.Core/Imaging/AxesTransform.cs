namespace Lab.Core.Imaging;

/// <summary>Maps data coordinates to pixels inside an axes' plot rectangle (y down, optionally log or inverted).</summary>
internal sealed class AxesTransform
{
    public double Left { get; init; }
    public double Top { get; init; }
    public double Width { get; init; } = 1;
    public double Height { get; init; } = 1;
    public double XMin { get; init; }
    public double XMax { get; init; } = 1;
    public double YMin { get; init; }
    public double YMax { get; init; } = 1;
    public bool LogY { get; init; }
    public bool InvertY { get; init; }

    public double Right => Left + Width;
    public double Bottom => Top + Height;

    public double X(double x) => Left + (x - XMin) / (XMax - XMin) * Width;

    public double Y(double y)
    {
        double u = LogY
            ? (y > 0 ? (Math.Log10(y) - Math.Log10(YMin)) / (Math.Log10(YMax) - Math.Log10(YMin)) : double.NaN)
            : (y - YMin) / (YMax - YMin);
        return InvertY ? Top + u * Height : Bottom - u * Height;
    }

    /// <summary>Whether a point can be placed at all (finite, and positive on a log axis).</summary>
    public bool Valid(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogY || y > 0);

    public (double[] X, double[] Y) Map(double[] xs, double[] ys)
    {
        var px = new double[xs.Length];
        var py = new double[ys.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            bool ok = Valid(xs[i], ys[i]);
            px[i] = ok ? X(xs[i]) : double.NaN;
            py[i] = ok ? Y(ys[i]) : double.NaN;
        }
        return (px, py);
    }
}

/// <summary>Font sizes and spacing in pixels at FontScale 1: 640 x 480 figures read like matplotlib's
/// defaults at 100 dpi.</summary>
internal static class Style
{
    public const double TickSize = 12;
    public const double LabelSize = 13;
    public const double TitleSize = 14.5;
    public const double SuptitleSize = 16.5;
    public const double LegendSize = 12;
    public const double Pad = 6;
    public const double TickGap = 5;
}
