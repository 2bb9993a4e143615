namespace Lab.Core.Imaging;

/// <summary>How many 8-bit channels a pixel has, and what they mean.</summary>
public enum PixelFormat
{
    Grey = 1,
    Rgb = 3,
    Rgba = 4,
}

/// <summary>
/// A plain pixel buffer, rows top to bottom, channels interleaved, 8 bits each, straight alpha. It is what the
/// Cairo renderer produces and what the PNG and GIF encoders consume.
/// </summary>
public sealed class Raster
{
    public Raster(int width, int height, PixelFormat format)
        : this(width, height, format, new byte[checked(Math.Max(width, 0) * Math.Max(height, 0) * (int)format)])
    {
    }

    /// <summary>Wraps existing pixels (no copy); their length must be width * height * channels.</summary>
    public Raster(int width, int height, PixelFormat format, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (format is not (PixelFormat.Grey or PixelFormat.Rgb or PixelFormat.Rgba))
        {
            throw new ArgumentOutOfRangeException(nameof(format));
        }
        if (pixels.Length != (long)width * height * (int)format)
        {
            throw new ArgumentException($"{pixels.Length} bytes do not make {width}x{height} {format} pixels.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Format = format;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public PixelFormat Format { get; }
    public int Channels => (int)Format;
    public int Stride => Width * Channels;

    /// <summary>Pixels, row by row from the top.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/> as a colour.</summary>
    public Color this[int x, int y]
    {
        get
        {
            int i = Offset(x, y);
            return Format switch
            {
                PixelFormat.Grey => Color.Grey(Pixels[i]),
                PixelFormat.Rgb => new Color(Pixels[i], Pixels[i + 1], Pixels[i + 2]),
                _ => new Color(Pixels[i], Pixels[i + 1], Pixels[i + 2], Pixels[i + 3]),
            };
        }
        set
        {
            int i = Offset(x, y);
            switch (Format)
            {
                case PixelFormat.Grey:
                    Pixels[i] = Color.ToByte(value.Luminance * 255);
                    break;
                case PixelFormat.Rgb:
                    (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = (value.R, value.G, value.B);
                    break;
                default:
                    (Pixels[i], Pixels[i + 1], Pixels[i + 2], Pixels[i + 3]) = (value.R, value.G, value.B, value.A);
                    break;
            }
        }
    }

    /// <summary>Fills every pixel with <paramref name="color"/>.</summary>
    public void Fill(Color color)
    {
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                this[x, y] = color;
            }
        }
    }

    /// <summary>Writes the raster as a PNG file atomically (managed encoder, nothing native).</summary>
    public void SavePng(string path) => Png.Save(path, this);

    private int Offset(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside {Width}x{Height}.");
        }
        return (y * Width + x) * Channels;
    }
}
