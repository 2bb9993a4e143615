using Lab.Core.IO;

namespace Lab.Core.Imaging;

/// <summary>
/// A picture of <see cref="Width"/> x <see cref="Height"/> pixels holding a grid of <see cref="Axes"/> and an
/// optional overall title. It knows nothing of models or experiments: plots fill its axes with layers. The same
/// layout is replayed to SVG (always available) and, through Cairo, to pixels for PNG and GIF.
/// </summary>
public sealed class Figure
{
    private readonly Axes[,] _axes;
    private double[] _columnWeights;
    private double[] _rowWeights;

    /// <param name="width">Pixels; 640 x 480 is matplotlib's default at 100 dpi and reads well in a README.</param>
    /// <param name="height">Pixels.</param>
    /// <param name="rows">Rows of axes.</param>
    /// <param name="columns">Columns of axes.</param>
    public Figure(int width = 640, int height = 480, int rows = 1, int columns = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 16384);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 16384);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        (Width, Height, Rows, Columns) = (width, height, rows, columns);
        _axes = new Axes[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                _axes[r, c] = new Axes();
            }
        }
        _columnWeights = [.. Enumerable.Repeat(1.0, columns)];
        _rowWeights = [.. Enumerable.Repeat(1.0, rows)];
    }

    public int Width { get; }
    public int Height { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>A title over all panels.</summary>
    public string? Title { get; set; }
    public Color Background { get; set; } = Color.White;
    /// <summary>Multiplies every font size and spacing (1 = the defaults).</summary>
    public double FontScale { get; set; } = 1;

    /// <summary>The panel at <paramref name="row"/>, <paramref name="column"/>.</summary>
    public Axes this[int row, int column] => _axes[row, column];

    /// <summary>The first panel; the only one of a single-panel figure.</summary>
    public Axes Axes => _axes[0, 0];

    /// <summary>Relative widths of the columns (e.g. 1, 2 for a digit beside a wider bar chart).</summary>
    public void SetColumnWidths(params double[] weights) => _columnWeights = CheckWeights(weights, Columns);

    /// <summary>Relative heights of the rows.</summary>
    public void SetRowHeights(params double[] weights) => _rowWeights = CheckWeights(weights, Rows);

    /// <summary>The figure as an SVG document (vector shapes, real text, images embedded as PNG).</summary>
    public string ToSvg()
    {
        var svg = new SvgCanvas(Width, Height);
        Draw(svg);
        return svg.ToString();
    }

    /// <summary>Writes the SVG to <paramref name="path"/> atomically.</summary>
    public void SaveSvg(string path) => AtomicFile.WriteAllText(path, ToSvg());

    /// <summary>Draws the figure into RGBA pixels through Cairo; null when Cairo is unavailable, with the reason
    /// in <paramref name="problem"/> (and said once on <see cref="Cairo.Messages"/>).</summary>
    public Raster? Render(out string? problem) => Cairo.TryRender(Width, Height, Draw, out problem);

    /// <summary>Writes a PNG (Cairo rendering, managed encoder) atomically. Returns false, writes nothing and
    /// reports once when Cairo is unavailable.</summary>
    public bool SavePng(string path, out string? problem)
    {
        var raster = Render(out problem);
        if (raster is null)
        {
            return false;
        }
        Png.Save(path, raster);
        return true;
    }

    /// <summary>
    /// Writes <c>path.svg</c> always and <c>path.png</c> when Cairo is there. <paramref name="path"/> may end in
    /// .png or .svg; the extension is replaced. Returns the files written and, when the PNG is missing, why.
    /// </summary>
    public SaveResult Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string stem = Path.GetExtension(path).ToLowerInvariant() is ".png" or ".svg" ? Path.ChangeExtension(path, null) : path;
        string svg = stem + ".svg", png = stem + ".png";
        SaveSvg(svg);
        return SavePng(png, out string? problem) ? new SaveResult([png, svg], null) : new SaveResult([svg], problem);
    }

    internal void Draw(ICanvas canvas)
    {
        canvas.FillRect(0, 0, Width, Height, Background);
        double pad = 4 * FontScale, top = pad;
        if (Title is not null)
        {
            double size = Style.SuptitleSize * FontScale;
            canvas.Text(Title, Width / 2.0, pad + size * 0.15, size, Palette.Text, HAlign.Center, VAlign.Top);
            top += size * 1.5;
        }
        double[] xs = Edges(_columnWeights, pad, Width - pad), ys = Edges(_rowWeights, top, Height - pad);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                _axes[r, c].Draw(canvas, xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r], FontScale);
            }
        }
    }

    private static double[] Edges(double[] weights, double start, double end)
    {
        double total = weights.Sum();
        var edges = new double[weights.Length + 1];
        edges[0] = start;
        for (int i = 0; i < weights.Length; i++)
        {
            edges[i + 1] = edges[i] + (end - start) * weights[i] / total;
        }
        return edges;
    }

    private static double[] CheckWeights(double[] weights, int count)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != count || weights.Any(w => !(w > 0) || !double.IsFinite(w)))
        {
            throw new ArgumentException($"Expected {count} positive weights, got [{string.Join(", ", weights)}].", nameof(weights));
        }
        return [.. weights];
    }
}

/// <summary>Which files a save wrote, and why one is missing (null when everything asked for was written).</summary>
public sealed record SaveResult(IReadOnlyList<string> Written, string? Problem)
{
    public string? Png => Written.FirstOrDefault(p => p.EndsWith(".png", StringComparison.OrdinalIgnoreCase));
    public string? Svg => Written.FirstOrDefault(p => p.EndsWith(".svg", StringComparison.OrdinalIgnoreCase));
    public string? Gif => Written.FirstOrDefault(p => p.EndsWith(".gif", StringComparison.OrdinalIgnoreCase));
}
