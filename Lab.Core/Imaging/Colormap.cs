namespace Lab.Core.Imaging;

/// <summary>Maps a value in [0, 1] to a colour by linear interpolation between evenly spaced stops.</summary>
public sealed class Colormap
{
    private readonly Color[] _stops;

    public Colormap(string name, IReadOnlyList<Color> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        if (stops.Count < 2)
        {
            throw new ArgumentException("A colormap needs at least two stops.", nameof(stops));
        }
        Name = name;
        _stops = [.. stops];
    }

    public string Name { get; }

    /// <summary>The colour at <paramref name="t"/>, clamped to [0, 1]; NaN maps to transparent.</summary>
    public Color this[double t]
    {
        get
        {
            if (double.IsNaN(t))
            {
                return Color.Transparent;
            }
            double x = Math.Clamp(t, 0, 1) * (_stops.Length - 1);
            int i = Math.Min((int)x, _stops.Length - 2);
            return _stops[i].Mix(_stops[i + 1], x - i);
        }
    }

    /// <summary>The colour of <paramref name="value"/> scaled from [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public Color Map(double value, double min, double max) => this[max > min ? (value - min) / (max - min) : 0.5];

    /// <summary>White (low) to black (high), like matplotlib's "gray_r": ink is dark.</summary>
    public static Colormap GreyReversed { get; } = new("gray_r", [Color.White, Color.Black]);

    /// <summary>Black (low) to white (high), like matplotlib's "gray".</summary>
    public static Colormap Grey { get; } = new("gray", [Color.Black, Color.White]);

    /// <summary>Perceptually uniform dark purple to yellow (stops sampled from matplotlib's "viridis").</summary>
    public static Colormap Viridis { get; } = new("viridis",
    [
        Color.FromHex("#440154"), Color.FromHex("#482878"), Color.FromHex("#3E4A89"), Color.FromHex("#31688E"),
        Color.FromHex("#26828E"), Color.FromHex("#1F9E89"), Color.FromHex("#35B779"), Color.FromHex("#6DCD59"),
        Color.FromHex("#B4DE2C"), Color.FromHex("#FDE725"),
    ]);

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
