using Lab.Figures.Animation;
using ScottPlot;
using SkiaSharp;
using static Lab.Figures.Tests.Bitmaps;

namespace Lab.Figures.Tests;

public class GifTests
{
    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(2, 7, 5)]
    [InlineData(4, 16, 16)]
    [InlineData(16, 33, 21)]
    [InlineData(200, 64, 64)]
    [InlineData(256, 300, 200)] // 60000 random pixels over 256 colours: many table resets
    public void RandomFrames_RoundTripExactly(int colors, int width, int height)
    {
        var rng = new Random(colors * 1000 + width);
        var palette = Enumerable.Range(0, colors).Select(i => new Color((byte)i, (byte)(255 - i), (byte)(i * 37))).ToArray();
        var frame = Frame(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                Set(frame, x, y, palette[rng.Next(colors)]);
            }
        }
        var gif = RoundTrip([frame], 25);
        var decoded = Assert.Single(gif.Frames);
        Assert.Equal(Packed(frame), decoded.Colors());
        if (width * height >= 60000)
        {
            Assert.True(decoded.ClearCodes > 2, $"expected the 4096-code reset to happen, saw {decoded.ClearCodes} clear codes");
        }
    }

    public static TheoryData<string> Patterns() => ["flat", "runs", "stripes", "gradient", "checker", "kwkwk"];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void StructuredFrames_RoundTripExactly(string pattern)
    {
        int width = 257, height = 131;
        var frame = Frame(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int v = pattern switch
                {
                    "flat" => 7,
                    "runs" => (x / 13 + y / 5) % 6,
                    "stripes" => x % 3,
                    "gradient" => (x + y) % 256,
                    "checker" => ((x / 4) + (y / 4)) % 2 * 255,
                    _ => 0, // one colour everywhere: the longest strings, built from KwKwK codes
                };
                Set(frame, x, y, new Color((byte)v, (byte)(v * 3), (byte)(255 - v)));
            }
        }
        var decoded = Assert.Single(RoundTrip([frame], 10).Frames);
        Assert.Equal(Packed(frame), decoded.Colors());
    }

    [Fact]
    public void Lzw_LongHighEntropyStream_ResetsAt4096AndStillDecodes()
    {
        // Direct encoder test over 8-bit indices, independent of quantisation.
        var rng = new Random(9);
        var indices = new byte[200_000];
        rng.NextBytes(indices);
        indices.AsSpan(100_000, 20_000).Fill(42); // a long run in the middle
        using var stream = new MemoryStream();
        new LzwEncoder().Encode(stream, indices, 8);
        byte[] bytes = stream.ToArray();
        Assert.Equal(8, bytes[0]);
        int at = 1;
        var data = new List<byte>();
        while (bytes[at] != 0)
        {
            Assert.True(bytes[at] <= 255);
            data.AddRange(bytes.AsSpan(at + 1, bytes[at]));
            at += 1 + bytes[at];
        }
        Assert.Equal(bytes.Length - 1, at);
        var (output, clears) = GifReader.Lzw([.. data], 8, indices.Length);
        Assert.Equal(indices, output);
        Assert.True(clears >= 10, $"only {clears} clear codes");
    }

    [Fact]
    public void Animation_HasDelaysLoopExtensionAndEveryFrame()
    {
        var frames = Enumerable.Range(0, 5).Select(k =>
        {
            var r = Frame(20, 10);
            for (int x = 0; x < 20; x++)
            {
                Set(r, x, k, Lab.Figures.Style.Class(k));
            }
            return r;
        }).ToList();
        var gif = RoundTrip(frames, 25);
        Assert.Equal((20, 10), (gif.Width, gif.Height));
        Assert.Equal(0, gif.LoopCount); // NETSCAPE2.0, loop forever
        Assert.True(gif.HasTrailer);
        Assert.Equal(5, gif.Frames.Count);
        for (int k = 0; k < 5; k++)
        {
            var f = gif.Frames[k];
            Assert.Equal(25, f.DelayCentiseconds);
            Assert.Equal((0, 0, 20, 10), (f.Left, f.Top, f.Width, f.Height));
            Assert.Equal(Packed(frames[k]), f.Colors());
        }
    }

    [Fact]
    public void PerFrameDelay_OverridesTheDefault()
    {
        using var stream = new MemoryStream();
        var frame = Frame(4, 4);
        using (var gif = new GifWriter(stream, 4, 4, delayCentiseconds: 25, loopCount: 3))
        {
            gif.AddFrame(frame);
            gif.AddFrame(frame, delayCentiseconds: 100);
        }
        var read = GifReader.Read(stream.ToArray());
        Assert.Equal(3, read.LoopCount);
        Assert.Equal([25, 100], read.Frames.Select(f => f.DelayCentiseconds));
    }

    [Fact]
    public void ManyColours_AreQuantisedTo256_KeepingDominantColoursExact()
    {
        // A plot-like frame: white background, two flat class colours, and a smooth gradient of 64k colours.
        var frame = Frame(256, 300);
        var blue = Lab.Figures.Style.Class(0);
        var orange = Lab.Figures.Style.Class(1);
        for (int y = 0; y < 300; y++)
        {
            for (int x = 0; x < 256; x++)
            {
                Set(frame, x, y, y < 100 ? Colors.White : y < 150 ? blue : y < 200 ? orange : new Color((byte)x, (byte)((y - 200) * 2.55), (byte)(x ^ y)));
            }
        }
        var decoded = Assert.Single(RoundTrip([frame], 25).Frames);
        Assert.True(decoded.Palette.Length / 3 <= 256);
        var colors = decoded.Colors();
        Assert.Equal(0xFFFFFF, colors[0]);
        Assert.Equal((blue.R << 16) | (blue.G << 8) | blue.B, colors[120 * 256]);
        Assert.Equal((orange.R << 16) | (orange.G << 8) | orange.B, colors[170 * 256]);
        double error = 0;
        for (int i = 200 * 256; i < colors.Length; i++)
        {
            var c = Get(frame, i % 256, i / 256);
            error += Math.Abs(c.R - (colors[i] >> 16)) + Math.Abs(c.G - ((colors[i] >> 8) & 0xFF)) + Math.Abs(c.B - (colors[i] & 0xFF));
        }
        Assert.True(error / (100 * 256 * 3) < 12, $"mean channel error {error / (100 * 256 * 3):F1}");
    }

    [Fact]
    public void Quantizer_KeepsAnExactPaletteUpTo256Colours()
    {
        var frame = Frame(256, 1);
        for (int x = 0; x < 256; x++)
        {
            Set(frame, x, 0, new Color((byte)x, (byte)(x * 7), (byte)(x * 13)));
        }
        var q = ColorQuantizer.Quantize(frame);
        Assert.Equal(256, q.ColorCount);
        for (int x = 0; x < 256; x++)
        {
            int i = q.Indices[x];
            Assert.Equal(Get(frame, x, 0), new Color(q.Palette[3 * i], q.Palette[3 * i + 1], q.Palette[3 * i + 2]));
        }
    }

    [Fact]
    public void SaveFromRasters_IsAtomicAndRejectsMismatchedFrames()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("a.gif");
        Assert.Equal(2, GifWriter.Save(path, [Frame(3, 3), Frame(3, 3)]));
        Assert.Equal(2, GifReader.Read(File.ReadAllBytes(path)).Frames.Count);
        Assert.Throws<ArgumentException>(() => GifWriter.Save(path, [Frame(3, 3), Frame(4, 3)]));
        Assert.Equal(2, GifReader.Read(File.ReadAllBytes(path)).Frames.Count); // the old file is intact
        Assert.Equal([path], Directory.GetFiles(tmp.Path));
    }

    private static GifReader.Gif RoundTrip(IReadOnlyList<SKBitmap> frames, int delay)
    {
        using var stream = new MemoryStream();
        using (var gif = new GifWriter(stream, frames[0].Width, frames[0].Height, delay))
        {
            foreach (var f in frames)
            {
                gif.AddFrame(f);
            }
        }
        return GifReader.Read(stream.ToArray());
    }
}
