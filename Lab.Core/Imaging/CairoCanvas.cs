using System.Text;
using static Lab.Core.Imaging.CairoNative;

namespace Lab.Core.Imaging;

/// <summary>Draws on a Cairo ARGB32 image surface (anti-aliased shapes, DejaVu Sans text through Cairo's toy
/// font API) and reads the result back as straight-alpha RGBA.</summary>
internal sealed unsafe class CairoCanvas : ICanvas, IDisposable
{
    private static readonly byte[] Family = Encoding.UTF8.GetBytes("DejaVu Sans\0");
    private readonly nint _surface;
    private readonly nint _cr;
    private readonly int _width, _height;

    public CairoCanvas(int width, int height)
    {
        (_width, _height) = (width, height);
        _surface = ImageSurfaceCreate(FormatArgb32, width, height);
        _cr = Create(_surface);
        SetLineJoin(_cr, LineJoinRound);
    }

    /// <summary>Cairo's error code for the context, 0 when all went well.</summary>
    public int Status => CairoNative.Status(_cr);

    public void FillRect(double x, double y, double width, double height, Color fill)
    {
        Source(fill);
        Rectangle(_cr, x, y, width, height);
        Fill(_cr);
    }

    public void StrokeRect(double x, double y, double width, double height, Color stroke, double lineWidth)
    {
        Source(stroke);
        SetLineWidth(_cr, lineWidth);
        Rectangle(_cr, x, y, width, height);
        Stroke(_cr);
    }

    public void Polyline(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Color stroke, double lineWidth, bool dashed = false)
    {
        NewPath(_cr);
        bool pen = false;
        for (int i = 0; i < xs.Length; i++)
        {
            if (double.IsNaN(xs[i]) || double.IsNaN(ys[i]))
            {
                pen = false;
                continue;
            }
            if (pen)
            {
                LineTo(_cr, xs[i], ys[i]);
            }
            else
            {
                MoveTo(_cr, xs[i], ys[i]);
            }
            pen = true;
        }
        Source(stroke);
        SetLineWidth(_cr, lineWidth);
        SetLineCap(_cr, xs.Length == 2 ? LineCapButt : LineCapRound);
        if (dashed)
        {
            double* dash = stackalloc double[] { lineWidth * 3.7, lineWidth * 1.6 };
            SetDash(_cr, dash, 2, 0);
        }
        Stroke(_cr);
        SetDash(_cr, null, 0, 0);
    }

    public void Markers(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Marker shape, double radius, Color fill, Color? edge, double edgeWidth)
    {
        if (shape == Marker.None)
        {
            return;
        }
        var polygon = CanvasExtensions.Polygon(shape, radius);
        SetLineWidth(_cr, edgeWidth);
        for (int i = 0; i < xs.Length; i++)
        {
            if (double.IsNaN(xs[i]) || double.IsNaN(ys[i]))
            {
                continue;
            }
            NewPath(_cr);
            if (polygon is null)
            {
                Arc(_cr, xs[i], ys[i], radius, 0, 2 * Math.PI);
            }
            else
            {
                MoveTo(_cr, xs[i] + polygon[0].X, ys[i] + polygon[0].Y);
                for (int k = 1; k < polygon.Length; k++)
                {
                    LineTo(_cr, xs[i] + polygon[k].X, ys[i] + polygon[k].Y);
                }
                ClosePath(_cr);
            }
            Source(fill);
            if (edge is { } e)
            {
                FillPreserve(_cr);
                Source(e);
                Stroke(_cr);
            }
            else
            {
                Fill(_cr);
            }
        }
    }

    public void Text(string text, double x, double y, double size, Color color, HAlign h, VAlign v, bool bold = false, bool vertical = false)
    {
        if (text.Length == 0)
        {
            return;
        }
        byte[] utf8 = Encoding.UTF8.GetBytes(text + "\0");
        fixed (byte* family = Family, s = utf8)
        {
            SelectFontFace(_cr, family, 0, bold ? 1 : 0);
            SetFontSize(_cr, size);
            TextExtents extents;
            TextExtentsOf(_cr, s, &extents);
            double dx = h switch { HAlign.Left => 0, HAlign.Right => -extents.XAdvance, _ => -extents.XAdvance / 2 };
            Save(_cr);
            Translate(_cr, x, y);
            if (vertical)
            {
                Rotate(_cr, -Math.PI / 2);
            }
            NewPath(_cr);
            MoveTo(_cr, dx, CanvasExtensions.BaselineOffset(v, size));
            Source(color);
            ShowText(_cr, s);
            Restore(_cr);
        }
    }

    public void Image(Raster image, double x, double y, double width, double height, bool smooth)
    {
        if (width <= 0 || height <= 0)
        {
            return;
        }
        uint[] argb = ToPremultipliedArgb(image);
        fixed (uint* data = argb)
        {
            nint source = ImageSurfaceCreateForData((byte*)data, FormatArgb32, image.Width, image.Height, image.Width * 4);
            Save(_cr);
            Translate(_cr, x, y);
            CairoNative.Scale(_cr, width / image.Width, height / image.Height);
            SetSourceSurface(_cr, source, 0, 0);
            nint pattern = GetSource(_cr);
            PatternSetFilter(pattern, smooth ? FilterBilinear : FilterNearest);
            PatternSetExtend(pattern, ExtendPad); // smooth edges do not fade into the background
            NewPath(_cr);
            Rectangle(_cr, 0, 0, image.Width, image.Height);
            Fill(_cr);
            Restore(_cr);
            SurfaceDestroy(source);
        }
    }

    public void PushClip(double x, double y, double width, double height)
    {
        Save(_cr);
        NewPath(_cr);
        Rectangle(_cr, x, y, width, height);
        Clip(_cr);
    }

    public void PopClip() => Restore(_cr);

    /// <summary>The drawing as straight-alpha RGBA (Cairo keeps premultiplied native-endian ARGB).</summary>
    public Raster ToRaster()
    {
        SurfaceFlush(_surface);
        byte* data = ImageSurfaceGetData(_surface);
        int stride = ImageSurfaceGetStride(_surface);
        var raster = new Raster(_width, _height, PixelFormat.Rgba);
        var pixels = raster.Pixels;
        for (int y = 0; y < _height; y++)
        {
            uint* row = (uint*)(data + (long)y * stride);
            for (int x = 0; x < _width; x++)
            {
                uint p = row[x];
                int a = (int)(p >> 24);
                int i = (y * _width + x) * 4;
                if (a == 0)
                {
                    continue;
                }
                pixels[i] = (byte)Math.Min(255, (((p >> 16) & 0xFF) * 255 + a / 2) / a);
                pixels[i + 1] = (byte)Math.Min(255, (((p >> 8) & 0xFF) * 255 + a / 2) / a);
                pixels[i + 2] = (byte)Math.Min(255, ((p & 0xFF) * 255 + a / 2) / a);
                pixels[i + 3] = (byte)a;
            }
        }
        return raster;
    }

    public void Dispose()
    {
        CairoNative.Destroy(_cr);
        SurfaceDestroy(_surface);
    }

    private void Source(Color c) => SetSourceRgba(_cr, c.R / 255.0, c.G / 255.0, c.B / 255.0, c.A / 255.0);

    private static uint[] ToPremultipliedArgb(Raster image)
    {
        var argb = new uint[image.Width * image.Height];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var c = image[x, y];
                uint a = c.A;
                argb[y * image.Width + x] = (a << 24) | ((uint)(c.R * a + 127) / 255 << 16) | ((uint)(c.G * a + 127) / 255 << 8) | ((uint)(c.B * a + 127) / 255);
            }
        }
        return argb;
    }
}
