using System.Globalization;
using System.Text;

namespace Lab.Core.Imaging;

/// <summary>Writes the drawing as SVG 1.1: shapes with coordinates rounded to hundredths, text as text (escaped),
/// images as embedded PNG data.</summary>
internal sealed class SvgCanvas : ICanvas
{
    private const string FontFamily = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif";
    private readonly StringBuilder _body = new();
    private readonly int _width, _height;
    private int _clips;

    public SvgCanvas(int width, int height) => (_width, _height) = (width, height);

    public override string ToString()
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"{_width}\" height=\"{_height}\" viewBox=\"0 0 {_width} {_height}\" font-family=\"{FontFamily}\">\n");
        svg.Append(_body);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    public void FillRect(double x, double y, double width, double height, Color fill) =>
        _body.Append($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" {Fill(fill)}/>\n");

    public void StrokeRect(double x, double y, double width, double height, Color stroke, double lineWidth) =>
        _body.Append($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" fill=\"none\" {Stroke(stroke, lineWidth)}/>\n");

    public void Polyline(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Color stroke, double lineWidth, bool dashed = false)
    {
        var d = new StringBuilder();
        bool pen = false;
        for (int i = 0; i < xs.Length; i++)
        {
            if (double.IsNaN(xs[i]) || double.IsNaN(ys[i]))
            {
                pen = false;
                continue;
            }
            d.Append(pen ? 'L' : 'M').Append(N(xs[i])).Append(',').Append(N(ys[i]));
            pen = true;
        }
        if (d.Length == 0)
        {
            return;
        }
        string dash = dashed ? $" stroke-dasharray=\"{N(lineWidth * 3.7)},{N(lineWidth * 1.6)}\"" : "";
        _body.Append($"<path d=\"{d}\" fill=\"none\" {Stroke(stroke, lineWidth)} stroke-linejoin=\"round\" stroke-linecap=\"round\"{dash}/>\n");
    }

    public void Markers(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Marker shape, double radius, Color fill, Color? edge, double edgeWidth)
    {
        if (shape == Marker.None)
        {
            return;
        }
        _body.Append($"<g {Fill(fill)}{(edge is { } e ? " " + Stroke(e, edgeWidth) : "")}>\n");
        var polygon = CanvasExtensions.Polygon(shape, radius);
        for (int i = 0; i < xs.Length; i++)
        {
            if (double.IsNaN(xs[i]) || double.IsNaN(ys[i]))
            {
                continue;
            }
            if (polygon is null)
            {
                _body.Append($"<circle cx=\"{N(xs[i])}\" cy=\"{N(ys[i])}\" r=\"{N(radius)}\"/>\n");
                continue;
            }
            _body.Append("<path d=\"");
            for (int k = 0; k < polygon.Length; k++)
            {
                _body.Append(k == 0 ? 'M' : 'L').Append(N(xs[i] + polygon[k].X)).Append(',').Append(N(ys[i] + polygon[k].Y));
            }
            _body.Append("Z\"/>\n");
        }
        _body.Append("</g>\n");
    }

    public void Text(string text, double x, double y, double size, Color color, HAlign h, VAlign v, bool bold = false, bool vertical = false)
    {
        string anchor = h switch { HAlign.Left => "start", HAlign.Right => "end", _ => "middle" };
        double baseline = CanvasExtensions.BaselineOffset(v, size);
        string place = vertical
            ? $"x=\"0\" y=\"{N(baseline)}\" transform=\"translate({N(x)},{N(y)}) rotate(-90)\""
            : $"x=\"{N(x)}\" y=\"{N(y + baseline)}\"";
        _body.Append($"<text {place} font-size=\"{N(size)}\" text-anchor=\"{anchor}\"{(bold ? " font-weight=\"bold\"" : "")} {Fill(color)}>{Escape(text)}</text>\n");
    }

    public void Image(Raster image, double x, double y, double width, double height, bool smooth)
    {
        if (!smooth)
        {
            // Not every SVG renderer honours image-rendering (librsvg, older Inkscape smooth an 8x8 digit into a
            // blur), so sharp cells are embedded already enlarged by a whole factor, up to about 1024 pixels.
            int factor = (int)Math.Ceiling(Math.Max(width / image.Width, height / image.Height));
            factor = Math.Clamp(factor, 1, Math.Max(1, 1024 / Math.Max(image.Width, image.Height)));
            image = Enlarge(image, factor);
        }
        string data = Convert.ToBase64String(Png.Encode(image));
        string rendering = smooth ? "" : " image-rendering=\"pixelated\" style=\"image-rendering:pixelated;image-rendering:crisp-edges\"";
        _body.Append($"<image x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" preserveAspectRatio=\"none\"{rendering} xlink:href=\"data:image/png;base64,{data}\"/>\n");
    }

    private static Raster Enlarge(Raster image, int factor)
    {
        if (factor == 1)
        {
            return image;
        }
        var large = new Raster(image.Width * factor, image.Height * factor, image.Format);
        int c = image.Channels;
        for (int y = 0; y < large.Height; y++)
        {
            for (int x = 0; x < large.Width; x++)
            {
                Array.Copy(image.Pixels, ((y / factor) * image.Width + x / factor) * c, large.Pixels, (y * large.Width + x) * c, c);
            }
        }
        return large;
    }

    public void PushClip(double x, double y, double width, double height)
    {
        string id = "clip" + _clips++.ToString(CultureInfo.InvariantCulture);
        _body.Append($"<clipPath id=\"{id}\"><rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\"/></clipPath>\n");
        _body.Append($"<g clip-path=\"url(#{id})\">\n");
    }

    public void PopClip() => _body.Append("</g>\n");

    /// <summary>Escapes the five XML special characters and drops control characters XML 1.0 forbids.</summary>
    internal static string Escape(string text)
    {
        var s = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': s.Append("&amp;"); break;
                case '<': s.Append("&lt;"); break;
                case '>': s.Append("&gt;"); break;
                case '"': s.Append("&quot;"); break;
                case '\'': s.Append("&apos;"); break;
                case < ' ' and not ('\t' or '\n' or '\r'): break;
                default: s.Append(c); break;
            }
        }
        return s.ToString();
    }

    private static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    private static string Fill(Color c) => c.A == 255 ? $"fill=\"{c.ToHex()}\"" : $"fill=\"{c.ToHex()}\" fill-opacity=\"{N(c.A / 255.0)}\"";

    private static string Stroke(Color c, double width) =>
        $"stroke=\"{c.ToHex()}\" stroke-width=\"{N(width)}\"" + (c.A == 255 ? "" : $" stroke-opacity=\"{N(c.A / 255.0)}\"");
}
