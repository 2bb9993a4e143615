using SkiaSharp;

namespace Lab.Figures.Animation;

/// <summary>
/// Reduces an image to at most 256 colours for GIF. An image that already has no more than 256 distinct colours
/// keeps them exactly. Otherwise a variance-based median cut: the box of colours with the largest weighted
/// squared error is split at the weighted median of its widest channel until there are enough boxes. Plots
/// are a few flat colours plus anti-aliased edges, so each box is represented by its most frequent colour when
/// that colour holds most of the box's pixels (backgrounds and class colours stay exact), else by its mean.
/// </summary>
public static class ColorQuantizer
{
    /// <summary>A palette (RGB triples) and one palette index per pixel.</summary>
    public sealed record Result(byte[] Palette, byte[] Indices)
    {
        public int ColorCount => Palette.Length / 3;
    }

    /// <summary>Quantises <paramref name="frame"/> (RGBA) to at most <paramref name="maxColors"/> colours. Transparent
    /// pixels are composited over white first: GIF frames here are opaque.</summary>
    public static Result Quantize(SKBitmap frame, int maxColors = 256)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxColors, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxColors, 256);

        int[] rgb = ToRgb(frame);
        var counts = new Dictionary<int, int>();
        foreach (int c in rgb)
        {
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }

        int[] palette = counts.Count <= maxColors ? [.. counts.Keys] : MedianCut(counts, maxColors);
        var index = new Dictionary<int, byte>(counts.Count);
        var indices = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i++)
        {
            if (!index.TryGetValue(rgb[i], out byte k))
            {
                index[rgb[i]] = k = Nearest(palette, rgb[i]);
            }
            indices[i] = k;
        }

        var bytes = new byte[palette.Length * 3];
        for (int i = 0; i < palette.Length; i++)
        {
            (bytes[3 * i], bytes[3 * i + 1], bytes[3 * i + 2]) = ((byte)(palette[i] >> 16), (byte)(palette[i] >> 8), (byte)palette[i]);
        }
        return new Result(bytes, indices);
    }

    private static int[] ToRgb(SKBitmap frame)
    {
        var rgb = new int[frame.Width * frame.Height];
        ReadOnlySpan<byte> p = Pictures.Pixels(frame);
        bool premultiplied = frame.AlphaType == SKAlphaType.Premul;
        for (int i = 0; i < rgb.Length; i++)
        {
            int a = p[4 * i + 3];
            // Over white: c + (1 - a) * 255 for premultiplied colour, c * a + (1 - a) * 255 for straight.
            int Over(int c) => premultiplied ? c + 255 - a : (c * a + 255 * (255 - a) + 127) / 255;
            rgb[i] = a == 255 ? (p[4 * i] << 16) | (p[4 * i + 1] << 8) | p[4 * i + 2]
                : (Over(p[4 * i]) << 16) | (Over(p[4 * i + 1]) << 8) | Over(p[4 * i + 2]);
        }
        return rgb;
    }

    private static byte Nearest(int[] palette, int color)
    {
        int best = 0, bestDistance = int.MaxValue;
        for (int i = 0; i < palette.Length; i++)
        {
            int dr = ((palette[i] >> 16) & 0xFF) - ((color >> 16) & 0xFF);
            int dg = ((palette[i] >> 8) & 0xFF) - ((color >> 8) & 0xFF);
            int db = (palette[i] & 0xFF) - (color & 0xFF);
            int d = dr * dr + dg * dg + db * db;
            if (d < bestDistance)
            {
                (best, bestDistance) = (i, d);
            }
        }
        return (byte)best;
    }

    private static int[] MedianCut(Dictionary<int, int> counts, int maxColors)
    {
        var colors = counts.Keys.ToArray();
        var weights = colors.Select(c => counts[c]).ToArray();
        var boxes = new List<(int Start, int End, double Error)> { (0, colors.Length, Error(colors, weights, 0, colors.Length, out _)) };

        while (boxes.Count < maxColors)
        {
            int worst = 0;
            for (int b = 1; b < boxes.Count; b++)
            {
                if (boxes[b].Error > boxes[worst].Error)
                {
                    worst = b;
                }
            }
            var (start, end, error) = boxes[worst];
            if (error <= 0)
            {
                break; // every box is a single colour
            }
            Error(colors, weights, start, end, out int channel);
            int shift = 16 - 8 * channel;
            // Sort the box along its widest channel and cut where half of its pixels lie on each side.
            Array.Sort(colors, weights, start, end - start, Comparer<int>.Create((a, b) => ((a >> shift) & 0xFF).CompareTo((b >> shift) & 0xFF)));
            long total = 0;
            for (int i = start; i < end; i++)
            {
                total += weights[i];
            }
            long running = 0;
            int cut = start + 1;
            for (int i = start; i < end - 1; i++)
            {
                running += weights[i];
                cut = i + 1;
                if (2 * running >= total)
                {
                    break;
                }
            }
            boxes[worst] = (start, cut, Error(colors, weights, start, cut, out _));
            boxes.Add((cut, end, Error(colors, weights, cut, end, out _)));
        }
        return [.. boxes.Select(b => Representative(colors, weights, b.Start, b.End))];
    }

    /// <summary>Weighted squared error of a box around its mean; <paramref name="channel"/> gets the channel
    /// (0 = R, 1 = G, 2 = B) with the largest spread.</summary>
    private static double Error(int[] colors, int[] weights, int start, int end, out int channel)
    {
        Span<double> sum = stackalloc double[3];
        Span<double> squares = stackalloc double[3];
        double total = 0;
        for (int i = start; i < end; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                double v = (colors[i] >> (16 - 8 * c)) & 0xFF;
                sum[c] += weights[i] * v;
                squares[c] += weights[i] * v * v;
            }
            total += weights[i];
        }
        double error = 0, widest = -1;
        channel = 0;
        for (int c = 0; c < 3; c++)
        {
            double spread = squares[c] - sum[c] * sum[c] / total;
            error += spread;
            if (spread > widest)
            {
                (widest, channel) = (spread, c);
            }
        }
        return end - start > 1 ? Math.Max(error, 1e-9) : 0;
    }

    private static int Representative(int[] colors, int[] weights, int start, int end)
    {
        long total = 0, r = 0, g = 0, b = 0;
        int mode = start;
        for (int i = start; i < end; i++)
        {
            int w = weights[i];
            total += w;
            r += (long)w * ((colors[i] >> 16) & 0xFF);
            g += (long)w * ((colors[i] >> 8) & 0xFF);
            b += (long)w * (colors[i] & 0xFF);
            if (w > weights[mode])
            {
                mode = i;
            }
        }
        if (2L * weights[mode] >= total)
        {
            return colors[mode];
        }
        return ((int)Math.Round((double)r / total) << 16) | ((int)Math.Round((double)g / total) << 8) | (int)Math.Round((double)b / total);
    }
}
