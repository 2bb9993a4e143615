using ScottPlot;
using SkiaSharp;

namespace Lab.Figures.Tests;

/// <summary>Small RGBA bitmaps for tests, read and written pixel by pixel through Skia (independent of GenLab's code).</summary>
internal static class Bitmaps
{
    /// <summary>An opaque white bitmap.</summary>
    public static SKBitmap Frame(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        bitmap.Erase(SKColors.White);
        return bitmap;
    }

    public static void Set(SKBitmap bitmap, int x, int y, Color c) => bitmap.SetPixel(x, y, new SKColor(c.R, c.G, c.B, c.A));

    public static Color Get(SKBitmap bitmap, int x, int y)
    {
        var c = bitmap.GetPixel(x, y);
        return new Color(c.Red, c.Green, c.Blue, c.Alpha);
    }

    /// <summary>Every pixel as 0xRRGGBB, row by row.</summary>
    public static int[] Packed(SKBitmap bitmap)
    {
        var colors = new int[bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                colors[y * bitmap.Width + x] = (c.Red << 16) | (c.Green << 8) | c.Blue;
            }
        return colors;
    }

    /// <summary>Decodes a PNG file back with Skia.</summary>
    public static SKBitmap DecodePng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan().StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), $"{path} is not a PNG");
        return SKBitmap.Decode(bytes) ?? throw new Xunit.Sdk.XunitException($"Skia could not decode {path}");
    }

    /// <summary>How many pixels in the rectangle differ from white by more than a faint anti-aliasing tint.</summary>
    public static int Ink(SKBitmap bitmap, int left, int top, int right, int bottom)
    {
        int n = 0;
        for (int y = Math.Max(0, top); y < Math.Min(bitmap.Height, bottom); y++)
            for (int x = Math.Max(0, left); x < Math.Min(bitmap.Width, right); x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 3 * 255 - 60) n++;
            }
        return n;
    }
}

/// <summary>A fresh folder under the system temp folder, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("genlab-figures-tests-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
