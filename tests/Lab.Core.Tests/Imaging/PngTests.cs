using System.Text;
using Lab.Core.Imaging;
using Lab.Core.Tests.IO;

namespace Lab.Core.Tests.Imaging;

public class PngTests
{
    public static TheoryData<PixelFormat, int, int, string> Images() => new()
    {
        { PixelFormat.Grey, 1, 1, "random" },
        { PixelFormat.Grey, 37, 23, "random" },
        { PixelFormat.Grey, 64, 48, "gradient" },
        { PixelFormat.Rgb, 31, 17, "random" },
        { PixelFormat.Rgb, 80, 60, "gradient" },
        { PixelFormat.Rgb, 50, 40, "flat" },
        { PixelFormat.Rgba, 29, 33, "random" },
        { PixelFormat.Rgba, 70, 50, "gradient" },
        { PixelFormat.Rgba, 3, 200, "stripes" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Encode_RoundTripsThroughAnIndependentDecoder(PixelFormat format, int width, int height, string kind)
    {
        var raster = Make(format, width, height, kind, seed: width * 31 + height);
        byte[] file = Png.Encode(raster);

        var image = PngReader.Decode(file); // checks signature, every CRC, IHDR fields and the inflated size
        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
        Assert.Equal(raster.Channels, image.Channels);
        Assert.Equal(format switch { PixelFormat.Grey => 0, PixelFormat.Rgb => 2, _ => 6 }, image.ColorType);
        Assert.Equal((1 + width * raster.Channels) * height, image.Raw.Length);
        Assert.Equal(raster.Pixels, image.Pixels);
    }

    [Fact]
    public void ChunkLayout_IsSignatureIhdrIdatIend_AndEveryCrcMatchesABitwiseCrc()
    {
        byte[] file = Png.Encode(Make(PixelFormat.Rgb, 10, 10, "random", 1));
        Assert.Equal(PngReader.Signature, Png.Signature.ToArray());
        var chunks = PngReader.Chunks(file);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        Assert.All(chunks, c => Assert.Equal(c.ComputedCrc, c.StoredCrc));
        Assert.Equal(13, chunks[0].Data.Length);
    }

    [Fact]
    public void AdaptiveFiltering_UsesSeveralFilterTypes()
    {
        // Flat rows compress best with Sub or Up, a horizontal ramp with Sub, random rows with None.
        var raster = new Raster(64, 60, PixelFormat.Grey);
        var rng = new Random(5);
        for (int y = 0; y < 60; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                raster.Pixels[y * 64 + x] = y < 20 ? (byte)(x * 4) : y < 40 ? (byte)rng.Next(256) : (byte)(y * 3 + x * 2);
            }
        }
        var image = PngReader.Decode(Png.Encode(raster));
        Assert.Equal(raster.Pixels, image.Pixels);
        Assert.True(image.FilterTypes.Distinct().Count() >= 2, $"filters used: {string.Join(",", image.FilterTypes.Distinct())}");
    }

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_MatchesKnownValues(string text, uint expected)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32.Compute(bytes));
        Assert.Equal(expected, PngReader.BitwiseCrc(bytes));
    }

    [Fact]
    public void Save_WritesAtomicallyAndLeavesNoTemporaryFile()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("sub/image.png");
        var raster = Make(PixelFormat.Rgba, 9, 7, "random", 2);
        raster.SavePng(path);
        raster.SavePng(path); // overwrite
        Assert.Equal(raster.Pixels, PngReader.Decode(File.ReadAllBytes(path)).Pixels);
        Assert.Equal([path], Directory.GetFiles(tmp.File("sub")));
    }

    [Fact]
    public void Paeth_FollowsTheSpecificationTieBreaking()
    {
        for (int a = 0; a < 256; a += 15)
        {
            for (int b = 0; b < 256; b += 17)
            {
                for (int c = 0; c < 256; c += 13)
                {
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    int expected = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                    Assert.Equal(expected, Png.Paeth(a, b, c));
                }
            }
        }
    }

    internal static Raster Make(PixelFormat format, int width, int height, string kind, int seed)
    {
        var raster = new Raster(width, height, format);
        var rng = new Random(seed);
        int channels = raster.Channels;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    raster.Pixels[(y * width + x) * channels + c] = kind switch
                    {
                        "random" => (byte)rng.Next(256),
                        "gradient" => (byte)(x * 7 + y * 3 + c * 50),
                        "flat" => (byte)(c * 80 + 10),
                        _ => (byte)((x + c) % 2 == 0 ? 255 : y),
                    };
                }
            }
        }
        return raster;
    }
}
