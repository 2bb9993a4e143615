using ScottPlot;

namespace Lab.Figures;

/// <summary>Maps a value in [0, 1] to a colour by linear interpolation between evenly spaced stops (ScottPlot's
/// <see cref="IColormap"/>), or picks the stop of each of equal bins when <paramref name="steps"/>.</summary>
public sealed class Colormap(string name, IReadOnlyList<Color> stops, bool steps = false) : IColormap
{
    private readonly Color[] _stops = stops.Count >= 2 || (steps && stops.Count >= 1) ? [.. stops]
        : throw new ArgumentException("A colormap needs at least two stops.", nameof(stops));

    public string Name { get; } = name;

    /// <summary>The colour at <paramref name="position"/>, clamped to [0, 1]; NaN is transparent.</summary>
    public Color GetColor(double position)
    {
        if (double.IsNaN(position)) return Colors.Transparent;
        double t = Math.Clamp(position, 0, 1);
        if (steps) return _stops[Math.Min((int)(t * _stops.Length), _stops.Length - 1)];
        double x = t * (_stops.Length - 1);
        int i = Math.Min((int)x, _stops.Length - 2);
        return Mix(_stops[i], _stops[i + 1], x - i);
    }

    /// <summary>The colour of <paramref name="value"/> scaled from [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public Color Map(double value, double min, double max) => GetColor(max > min ? (value - min) / (max - min) : 0.5);

    /// <summary>Mixes toward <paramref name="b"/>: t = 0 gives a, t = 1 gives b.</summary>
    public static Color Mix(Color a, Color b, double t)
    {
        static byte L(byte u, byte v, double t) => (byte)Math.Clamp(Math.Round(u + (v - u) * t), 0, 255);
        return new Color(L(a.R, b.R, t), L(a.G, b.G, t), L(a.B, b.B, t), L(a.A, b.A, t));
    }

    /// <summary>Relative luminance in [0, 1] (Rec. 709 weights on the encoded values: enough to pick dark or light text).</summary>
    public static double Luminance(Color c) => (0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B) / 255.0;

    /// <summary>White (low) to black (high), like matplotlib's "gray_r": ink is dark.</summary>
    public static Colormap GreyReversed { get; } = new("gray_r", [Colors.White, Colors.Black]);

    /// <summary>White to deep blue (ColorBrewer "Blues"), for counts such as a confusion matrix.</summary>
    public static Colormap Blues { get; } = new("Blues",
    [
        Color.FromHex("#F7FBFF"), Color.FromHex("#DEEBF7"), Color.FromHex("#C6DBEF"), Color.FromHex("#9ECAE1"),
        Color.FromHex("#6BAED6"), Color.FromHex("#4292C6"), Color.FromHex("#2171B5"), Color.FromHex("#08519C"),
        Color.FromHex("#08306B"),
    ]);

    /// <summary>Diverging red - white - blue (ColorBrewer "RdBu"), white at the middle: signed values such as a
    /// perturbation, shown with limits symmetric about zero.</summary>
    public static Colormap RedBlue { get; } = new("RdBu",
    [
        Color.FromHex("#67001F"), Color.FromHex("#B2182B"), Color.FromHex("#D6604D"), Color.FromHex("#F4A582"),
        Color.FromHex("#FDDBC7"), Color.FromHex("#F7F7F7"), Color.FromHex("#D1E5F0"), Color.FromHex("#92C5DE"),
        Color.FromHex("#4393C3"), Color.FromHex("#2166AC"), Color.FromHex("#053061"),
    ]);
}
