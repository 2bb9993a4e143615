namespace Lab.Core.Imaging;

/// <summary>
/// Pure-pixel tiling of small images (generated digits), written with the managed PNG encoder: nothing native.
/// Values are read as intensities in [0, 1] (clamped) and shown as ink: 1 is black on white, the look of the
/// figures' gray_r heat maps and of the notes' sample grids.
/// </summary>
public static class SampleGrid
{
    /// <summary>
    /// Tiles <paramref name="images"/> (each <paramref name="side"/> x <paramref name="side"/>, row-major) into a
    /// grid of <paramref name="columns"/> columns, each pixel enlarged to <paramref name="scale"/> x
    /// <paramref name="scale"/>, tiles separated by <paramref name="gap"/> output pixels of light grey (also
    /// around the border). Returns an 8-bit grey raster. Missing tiles at the end stay background grey.
    /// </summary>
    public static Raster Tile(IReadOnlyList<float[]> images, int columns, int scale = 4, int gap = 1, int side = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        side = side > 0 ? side : Side(images[0].Length);
        int rows = (images.Count + columns - 1) / columns, tile = side * scale;
        var raster = new Raster(gap + columns * (tile + gap), gap + rows * (tile + gap), PixelFormat.Grey);
        Array.Fill(raster.Pixels, Palette.Gap.R);
        for (int n = 0; n < images.Count; n++)
        {
            if (images[n].Length != side * side)
            {
                throw new ArgumentException($"Image {n} has {images[n].Length} values, not {side}x{side}.", nameof(images));
            }
            int left = gap + (n % columns) * (tile + gap), top = gap + (n / columns) * (tile + gap);
            for (int y = 0; y < tile; y++)
            {
                for (int x = 0; x < tile; x++)
                {
                    float v = images[n][(y / scale) * side + x / scale];
                    raster.Pixels[(top + y) * raster.Width + left + x] = Ink(v);
                }
            }
        }
        return raster;
    }

    /// <summary>Tiles and writes a PNG atomically (see <see cref="Tile"/>).</summary>
    public static Raster SavePng(string path, IReadOnlyList<float[]> images, int columns, int scale = 4, int gap = 1)
    {
        var raster = Tile(images, columns, scale, gap);
        Png.Save(path, raster);
        return raster;
    }

    /// <summary>Intensity in [0, 1] to a grey byte with ink dark: 0 is white, 1 is black; NaN is mid grey.</summary>
    public static byte Ink(float v) => float.IsNaN(v) ? (byte)128 : (byte)Math.Round(255 * (1 - Math.Clamp(v, 0f, 1f)));

    /// <summary>The side of a square image of <paramref name="length"/> pixels (64 -> 8, 784 -> 28).</summary>
    public static int Side(int length)
    {
        int side = (int)Math.Round(Math.Sqrt(length));
        if (side * side != length || side == 0)
        {
            throw new ArgumentException($"{length} pixels do not make a square image.", nameof(length));
        }
        return side;
    }
}
