using System.Globalization;

namespace Lab.Core.Imaging;

/// <summary>An sRGB colour with straight (not premultiplied) alpha, 8 bits per channel.</summary>
public readonly record struct Color(byte R, byte G, byte B, byte A = 255)
{
    public static readonly Color White = new(255, 255, 255);
    public static readonly Color Black = new(0, 0, 0);
    public static readonly Color Transparent = new(0, 0, 0, 0);

    /// <summary>Parses "#RRGGBB" or "#RRGGBBAA".</summary>
    public static Color FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        string s = hex.TrimStart('#');
        if (s.Length != 6 && s.Length != 8)
        {
            throw new FormatException($"'{hex}' is not a #RRGGBB or #RRGGBBAA colour.");
        }
        byte Channel(int i) => byte.Parse(s.AsSpan(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new Color(Channel(0), Channel(1), Channel(2), s.Length == 8 ? Channel(3) : (byte)255);
    }

    /// <summary>A grey level, 0 = black.</summary>
    public static Color Grey(byte level) => new(level, level, level);

    /// <summary>The same colour with opacity <paramref name="alpha"/> in [0, 1].</summary>
    public Color WithAlpha(double alpha) => this with { A = ToByte(alpha * 255) };

    /// <summary>Mixes toward <paramref name="other"/>: t = 0 gives this colour, t = 1 gives other (alpha too).</summary>
    public Color Mix(Color other, double t) => new(
        ToByte(R + (other.R - R) * t), ToByte(G + (other.G - G) * t),
        ToByte(B + (other.B - B) * t), ToByte(A + (other.A - A) * t));

    /// <summary>The colour seen when this one is painted over an opaque white background.</summary>
    public Color OverWhite() => A == 255 ? this : new Color(R, G, B).Mix(White, 1 - A / 255.0) with { A = 255 };

    /// <summary>Relative luminance in [0, 1] (Rec. 709 weights on the gamma-encoded values; enough to pick
    /// dark or light text over a cell).</summary>
    public double Luminance => (0.2126 * R + 0.7152 * G + 0.0722 * B) / 255.0;

    /// <summary>"#rrggbb", the form SVG attributes take (alpha goes in a separate opacity attribute).</summary>
    public string ToHex() => $"#{R:x2}{G:x2}{B:x2}";

    internal static byte ToByte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}

/// <summary>The figure palette: seaborn's "deep" colours for classes and series, and the neutral greys of the axes.</summary>
public static class Palette
{
    /// <summary>seaborn's default "deep" palette, one colour per class or series, cycled beyond ten.</summary>
    public static IReadOnlyList<Color> Deep { get; } =
    [
        Color.FromHex("#4C72B0"), Color.FromHex("#DD8452"), Color.FromHex("#55A868"), Color.FromHex("#C44E52"),
        Color.FromHex("#8172B3"), Color.FromHex("#937860"), Color.FromHex("#DA8BC3"), Color.FromHex("#8C8C8C"),
        Color.FromHex("#CCB974"), Color.FromHex("#64B5CD"),
    ];

    /// <summary>The colour of class or series <paramref name="index"/> (cycles through <see cref="Deep"/>).</summary>
    public static Color Class(int index) => Deep[((index % Deep.Count) + Deep.Count) % Deep.Count];

    /// <summary>Text, tick labels and titles: a soft black (seaborn's ".15").</summary>
    public static readonly Color Text = Color.Grey(38);
    /// <summary>The axes frame.</summary>
    public static readonly Color Spine = Color.Grey(191);
    /// <summary>Grid lines, light enough to stay behind the data.</summary>
    public static readonly Color Grid = Color.Grey(229);
    /// <summary>The gap between tiles of a sample grid.</summary>
    public static readonly Color Gap = Color.Grey(200);
}
