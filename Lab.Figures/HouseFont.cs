using System.Reflection;
using ScottPlot;
using SkiaSharp;

namespace Lab.Figures;

/// <summary>
/// DejaVu Sans, bundled with GenLab (Fonts/, Bitstream Vera licence) and loaded from the assembly, so a figure has
/// the same text on every machine and never loses it where no system font is installed. ScottPlot resolves every
/// font name to it; text GenLab draws with Skia directly takes <see cref="Regular"/> or <see cref="Bold"/>.
/// </summary>
public static class HouseFont
{
    public const string Name = "DejaVu Sans";

    private static readonly Lazy<SKTypeface> RegularFace = new(() => Load("DejaVuSans.ttf"));
    private static readonly Lazy<SKTypeface> BoldFace = new(() => Load("DejaVuSans-Bold.ttf"));
    private static readonly object Gate = new();
    private static bool _registered;

    public static SKTypeface Regular => RegularFace.Value;
    public static SKTypeface Bold => BoldFace.Value;

    /// <summary>Makes ScottPlot draw every text in the bundled font (idempotent; every figure calls it).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            Fonts.FontResolvers.Insert(0, new Resolver());
            Fonts.Default = Name;
            Fonts.Sans = Name;
            _registered = true;
        }
    }

    private static SKTypeface Load(string file)
    {
        string resource = $"Lab.Figures.Fonts.{file}";
        using var stream = typeof(HouseFont).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The bundled font {resource} is missing from {typeof(HouseFont).Assembly.GetName().Name}.");
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return SKTypeface.FromStream(copy)
            ?? throw new InvalidOperationException($"Skia could not read the bundled font {resource}.");
    }

    /// <summary>Every family name, including the ones ScottPlot picks for characters outside Latin, maps to DejaVu Sans,
    /// which covers the Greek, arrows and mathematical signs the figures use.</summary>
    private sealed class Resolver : IFontResolver
    {
        public SKTypeface CreateTypeface(string fontName, bool bold, bool italic) => bold ? Bold : Regular;

        public SKTypeface CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            weight >= FontWeight.SemiBold ? Bold : Regular;
    }
}
