using Lab.Core.IO;
using SkiaSharp;

namespace Lab.Figures;

/// <summary>
/// Pixel pictures drawn with Skia directly: digits and grids of generated samples. Values are intensities in [0, 1]
/// (clamped) shown as ink, 1 black on white, like matplotlib's gray_r; NaN is mid grey. Bitmaps are RGBA, opaque.
/// </summary>
public static class Pictures
{
    /// <summary>
    /// Tiles <paramref name="images"/> (square, row-major) into <paramref name="columns"/> columns, each pixel
    /// enlarged to <paramref name="scale"/> x <paramref name="scale"/>, tiles separated by <paramref name="gap"/>
    /// pixels of light grey (also around the border). Missing tiles at the end stay grey.
    /// </summary>
    public static SKBitmap Tile(IReadOnlyList<float[]> images, int columns, int scale = 4, int gap = 1)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        int side = Side(images[0].Length);
        int rows = (images.Count + columns - 1) / columns, tile = side * scale;
        int width = gap + columns * (tile + gap), height = gap + rows * (tile + gap);
        var bitmap = NewBitmap(width, height);
        var pixels = Pixels(bitmap);
        Fill(pixels, Style.Gap.R);
        for (int n = 0; n < images.Count; n++)
        {
            if (images[n].Length != side * side)
                throw new ArgumentException($"Image {n} has {images[n].Length} values, not {side}x{side} like image 0.", nameof(images));
            int left = gap + (n % columns) * (tile + gap), top = gap + (n / columns) * (tile + gap);
            for (int y = 0; y < tile; y++)
                for (int x = 0; x < tile; x++)
                {
                    byte v = Ink(images[n][(y / scale) * side + x / scale]);
                    int i = 4 * ((top + y) * width + left + x);
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = (v, v, v);
                }
        }
        return bitmap;
    }

    /// <summary>One square digit, one bitmap pixel per value (see <see cref="Tile"/> for the ink).</summary>
    public static SKBitmap Digit(float[] values) => Tile([values], 1, 1, 0);

    /// <summary>Each pixel repeated <paramref name="scale"/> x <paramref name="scale"/> times: sharp at any viewer's zoom.</summary>
    public static SKBitmap Enlarge(SKBitmap source, int scale)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var bitmap = NewBitmap(source.Width * scale, source.Height * scale);
        using var canvas = new SKCanvas(bitmap);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, SKRect.Create(bitmap.Width, bitmap.Height), new SKSamplingOptions(SKFilterMode.Nearest));
        return bitmap;
    }

    /// <summary>Tiles and writes a PNG atomically (see <see cref="Tile"/>).</summary>
    public static void SavePng(string path, IReadOnlyList<float[]> images, int columns, int scale = 4, int gap = 1)
    {
        using var bitmap = Tile(images, columns, scale, gap);
        Encode.Png(path, bitmap);
    }

    /// <summary>Intensity in [0, 1] to a grey byte with ink dark: 0 is white, 1 is black; NaN is mid grey.</summary>
    public static byte Ink(float v) => float.IsNaN(v) ? (byte)128 : (byte)Math.Round(255 * (1 - Math.Clamp(v, 0f, 1f)));

    /// <summary>The side of a square image of <paramref name="length"/> pixels (64 -> 8, 784 -> 28).</summary>
    public static int Side(int length)
    {
        int side = (int)Math.Round(Math.Sqrt(length));
        if (side * side != length || side == 0)
            throw new ArgumentException($"{length} pixels do not make a square image.", nameof(length));
        return side;
    }

    internal static SKBitmap NewBitmap(int width, int height) =>
        new(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));

    /// <summary>The bitmap's RGBA bytes, row by row from the top (writable).</summary>
    internal static unsafe Span<byte> Pixels(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888)
            throw new ArgumentException($"Expected an RGBA bitmap, got {bitmap.ColorType}.", nameof(bitmap));
        return new Span<byte>((void*)bitmap.GetPixels(), bitmap.ByteCount);
    }

    private static void Fill(Span<byte> rgba, byte grey)
    {
        for (int i = 0; i < rgba.Length; i += 4) (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = (grey, grey, grey, 255);
    }
}

/// <summary>Encoded image files, written atomically.</summary>
public static class Encode
{
    public static void Png(string path, SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"Skia could not encode a {bitmap.Width}x{bitmap.Height} PNG for {path}.");
        AtomicFile.Write(path, data.SaveTo);
    }
}
