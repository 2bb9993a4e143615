using Lab.Core.IO;
using ScottPlot;
using SkiaSharp;

namespace Lab.Figures;

/// <summary>
/// A picture of <see cref="Width"/> x <see cref="Height"/> pixels: a grid of panels under an optional overall title.
/// A panel is a ScottPlot <see cref="Plot"/> (axes, curves, bars, heat maps) or a bitmap drawn with Skia directly
/// (digits, sample grids), with a title and an optional frame. The same drawing goes to PNG, SVG and PDF.
/// </summary>
public sealed class Figure
{
    private readonly Panel[,] _panels;
    private float[] _columnWeights;
    private float[] _rowWeights;

    /// <param name="width">Pixels; 640 x 480 is matplotlib's default at 100 dpi and reads well in a README.</param>
    public Figure(int width = 640, int height = 480, int rows = 1, int columns = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 16384);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 16384);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        (Width, Height, Rows, Columns) = (width, height, rows, columns);
        _panels = new Panel[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) _panels[r, c] = new Panel();
        _columnWeights = [.. Enumerable.Repeat(1f, columns)];
        _rowWeights = [.. Enumerable.Repeat(1f, rows)];
    }

    public int Width { get; }
    public int Height { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>A title over all panels.</summary>
    public string? Title { get; set; }

    /// <summary>The plot of the panel at <paramref name="row"/>, <paramref name="column"/> (made on first use, in the house style).</summary>
    public Plot this[int row, int column] => _panels[row, column].Plot ??= Style.NewPlot();

    /// <summary>The first panel's plot; the only one of a single-panel figure.</summary>
    public Plot Plot => this[0, 0];

    /// <summary>Makes the panel a bitmap drawn at the largest whole scale that fits (sharp pixels), centred under
    /// <paramref name="title"/>, framed in the spine colour when <paramref name="framed"/>.</summary>
    public void SetPicture(int row, int column, SKBitmap bitmap, string? title = null, bool framed = false)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        _panels[row, column] = new Panel { Picture = bitmap, PictureTitle = title, Framed = framed };
    }

    /// <summary>
    /// Gives the panel's plot a square data area (an image or a matrix of cells), as large as its cell allows once
    /// at least the given margins (pixels, for tick labels, axis labels, title and colour bar) are kept, centred.
    /// </summary>
    public void SetSquareData(int row, int column, float left, float right, float bottom, float top) =>
        _panels[row, column].SquareMargins = (left, right, bottom, top);

    /// <summary>Leaves the panel empty.</summary>
    public void SetEmpty(int row, int column) => _panels[row, column] = new Panel { Empty = true };

    /// <summary>Relative widths of the columns (e.g. 1, 2 for a digit beside a wider bar chart).</summary>
    public void SetColumnWidths(params float[] weights) => _columnWeights = CheckWeights(weights, Columns);

    /// <summary>Relative heights of the rows.</summary>
    public void SetRowHeights(params float[] weights) => _rowWeights = CheckWeights(weights, Rows);

    /// <summary>Draws the figure on <paramref name="canvas"/> at (0, 0), <see cref="Width"/> x <see cref="Height"/>.</summary>
    public void Draw(SKCanvas canvas)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        using var background = new SKPaint { Color = Skia(Style.Background) };
        canvas.DrawRect(0, 0, Width, Height, background);
        float pad = 4, top = pad;
        if (Title is not null)
        {
            top += Text(canvas, Title, Width / 2f, pad, Style.SuptitleSize) + 6;
        }
        float[] xs = Edges(_columnWeights, pad, Width - pad), ys = Edges(_rowWeights, top, Height - pad);
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                var cell = SKRect.Create(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]);
                _panels[r, c].Draw(canvas, cell);
            }
    }

    /// <summary>The figure as pixels (RGBA, opaque).</summary>
    public SKBitmap Render()
    {
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        Draw(canvas);
        canvas.Flush();
        return bitmap;
    }

    /// <summary>Writes a PNG atomically.</summary>
    public void SavePng(string path)
    {
        using var bitmap = Render();
        Encode.Png(path, bitmap);
    }

    /// <summary>Writes an SVG atomically: vector shapes and real text (font-family "DejaVu Sans"), pictures embedded as PNG.</summary>
    public void SaveSvg(string path)
    {
        using var data = InMemory(stream =>
        {
            using var canvas = SKSvgCanvas.Create(SKRect.Create(Width, Height), stream);
            Draw(canvas);
        });
        AtomicFile.Write(path, data.SaveTo);
    }

    /// <summary>Writes a one-page PDF atomically (vector, the bundled font embedded).</summary>
    public void SavePdf(string path)
    {
        using var data = InMemory(stream =>
        {
            using var document = SKDocument.CreatePdf(stream);
            Draw(document.BeginPage(Width, Height));
            document.EndPage();
            document.Close();
        });
        AtomicFile.Write(path, data.SaveTo);
    }

    /// <summary>
    /// What <paramref name="write"/> puts into a Skia stream, in native memory. Files are then written from managed code:
    /// an I/O error (a full disk) raised inside Skia's write callback could not unwind through native frames and would
    /// end the process instead of reaching the run's error handling.
    /// </summary>
    public static SKData InMemory(Action<SKWStream> write)
    {
        using var memory = new SKDynamicMemoryWStream();
        write(memory);
        return memory.DetachAsData();
    }

    /// <summary>
    /// Writes <c>stem.png</c> and <c>stem.svg</c>; <paramref name="path"/> may end in .png or .svg (the extension is
    /// replaced). Returns the two paths.
    /// </summary>
    public IReadOnlyList<string> Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string stem = Path.GetExtension(path).ToLowerInvariant() is ".png" or ".svg" ? Path.ChangeExtension(path, null) : path;
        string png = stem + ".png", svg = stem + ".svg";
        SavePng(png);
        SaveSvg(svg);
        return [png, svg];
    }

    /// <summary>Draws <paramref name="text"/> centred at <paramref name="x"/> below <paramref name="top"/>; returns the line height used.</summary>
    internal static float Text(SKCanvas canvas, string text, float x, float top, float size, SKColor? color = null)
    {
        using var font = new SKFont(HouseFont.Regular, size);
        using var paint = new SKPaint { Color = color ?? Skia(Style.Text), IsAntialias = true };
        font.GetFontMetrics(out var metrics);
        canvas.DrawText(text, x, top - metrics.Ascent, SKTextAlign.Center, font, paint);
        return metrics.Descent - metrics.Ascent;
    }

    internal static SKColor Skia(Color c) => new(c.R, c.G, c.B, c.A);

    private static float[] Edges(float[] weights, float start, float end)
    {
        float total = weights.Sum();
        var edges = new float[weights.Length + 1];
        edges[0] = start;
        for (int i = 0; i < weights.Length; i++) edges[i + 1] = edges[i] + (end - start) * weights[i] / total;
        return edges;
    }

    private static float[] CheckWeights(float[] weights, int count)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != count || weights.Any(w => !(w > 0) || !float.IsFinite(w)))
            throw new ArgumentException($"Expected {count} positive weights, got [{string.Join(", ", weights)}].", nameof(weights));
        return [.. weights];
    }

    /// <summary>One cell of the grid: a plot, a picture, or nothing.</summary>
    private sealed class Panel
    {
        public Plot? Plot;
        public SKBitmap? Picture;
        public string? PictureTitle;
        public bool Framed;
        public bool Empty;
        public (float Left, float Right, float Bottom, float Top)? SquareMargins;

        public void Draw(SKCanvas canvas, SKRect cell)
        {
            if (Empty) return;
            if (Picture is null)
            {
                // ScottPlot clears the canvas before it draws: the clip keeps that to this panel's cell.
                canvas.Save();
                canvas.ClipRect(cell);
                Plot ??= Style.NewPlot();
                if (SquareMargins is { } m)
                {
                    float side = Math.Max(1, Math.Min(cell.Width - m.Left - m.Right, cell.Height - m.Top - m.Bottom));
                    float dx = (cell.Width - m.Left - m.Right - side) / 2, dy = (cell.Height - m.Top - m.Bottom - side) / 2;
                    Plot.Layout.Fixed(new PixelPadding(m.Left + dx, m.Right + dx, m.Bottom + dy, m.Top + dy));
                }
                Plot.Render(canvas, new PixelRect(cell.Left, cell.Right, cell.Bottom, cell.Top));
                canvas.Restore();
                return;
            }
            float top = cell.Top + 6;
            if (PictureTitle is not null) top += Text(canvas, PictureTitle, cell.MidX, top, Style.TitleSize) + 4;
            float room = Math.Min(cell.Width - 12, cell.Bottom - 6 - top);
            int scale = Math.Max(1, (int)Math.Floor(room / Math.Max(Picture.Width, Picture.Height)));
            using var scaled = Pictures.Enlarge(Picture, scale);
            float left = MathF.Round(cell.MidX - scaled.Width / 2f);
            top = MathF.Round(top + (cell.Bottom - 6 - top - scaled.Height) / 2f);
            canvas.DrawBitmap(scaled, left, top);
            if (Framed)
            {
                using var frame = new SKPaint { Color = Skia(Style.Spine), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
                canvas.DrawRect(left - 0.5f, top - 0.5f, scaled.Width + 1, scaled.Height + 1, frame);
            }
        }
    }
}
