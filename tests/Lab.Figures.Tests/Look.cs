namespace Lab.Figures.Tests;

/// <summary>
/// Where the figure tests save what they draw: a fresh temporary folder, or GENLAB_FIGURES_LOOK=/some/folder to keep
/// every kind of figure there and look at it (`GENLAB_FIGURES_LOOK=/tmp/look dotnet test tests/Lab.Figures.Tests`).
/// </summary>
internal sealed class Look : IDisposable
{
    private readonly TempDirectory? _temp;

    public Look()
    {
        var kept = Environment.GetEnvironmentVariable("GENLAB_FIGURES_LOOK");
        if (string.IsNullOrWhiteSpace(kept))
        {
            _temp = new TempDirectory();
            Folder = _temp.Path;
        }
        else
        {
            Folder = Directory.CreateDirectory(kept).FullName;
        }
    }

    public string Folder { get; }

    /// <summary>Saves <paramref name="figure"/> as name.png and name.svg and checks both files: the PNG decodes to the
    /// figure's size, the SVG parses and holds every string of <paramref name="texts"/> as text.</summary>
    public SkiaSharp.SKBitmap Save(Figure figure, string name, params string[] texts)
    {
        var written = figure.Save(Path.Combine(Folder, name));
        Assert.Equal([Path.Combine(Folder, name + ".png"), Path.Combine(Folder, name + ".svg")], written);
        var png = Bitmaps.DecodePng(written[0]);
        Assert.Equal((figure.Width, figure.Height), (png.Width, png.Height));
        var svg = System.Xml.Linq.XDocument.Load(written[1]);
        var svgText = string.Concat(svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value));
        foreach (var text in texts) Assert.Contains(text, svgText);
        return png;
    }

    public void Dispose() => _temp?.Dispose();
}
