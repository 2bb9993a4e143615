using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Lab.Core.Tests.Imaging;

/// <summary>A small, independent PNG reader for tests: chunk walk with a bit-by-bit CRC-32, zlib inflate,
/// and the five un-filters straight from the PNG specification.</summary>
internal static class PngReader
{
    public sealed record Chunk(string Type, byte[] Data, uint StoredCrc, uint ComputedCrc);

    public sealed record Image(int Width, int Height, int ColorType, int Channels, byte[] Raw, byte[] Pixels, byte[] FilterTypes);

    public static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static List<Chunk> Chunks(byte[] file)
    {
        Assert.Equal(Signature, file[..8]);
        var chunks = new List<Chunk>();
        int at = 8;
        while (at < file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = Encoding.ASCII.GetString(file, at + 4, 4);
            byte[] data = file[(at + 8)..(at + 8 + length)];
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at + 8 + length));
            chunks.Add(new Chunk(type, data, stored, BitwiseCrc(file.AsSpan(at + 4, 4 + length))));
            at += 12 + length;
        }
        Assert.Equal(file.Length, at);
        return chunks;
    }

    public static Image Decode(byte[] file)
    {
        var chunks = Chunks(file);
        foreach (var c in chunks)
        {
            Assert.True(c.StoredCrc == c.ComputedCrc, $"CRC mismatch in {c.Type}: stored {c.StoredCrc:x8}, computed {c.ComputedCrc:x8}");
        }
        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Equal("IEND", chunks[^1].Type);
        Assert.Empty(chunks[^1].Data);
        var h = chunks[0].Data;
        int width = BinaryPrimitives.ReadInt32BigEndian(h), height = BinaryPrimitives.ReadInt32BigEndian(h.AsSpan(4));
        Assert.Equal(8, h[8]);
        Assert.Equal(0, h[10]);
        Assert.Equal(0, h[11]);
        Assert.Equal(0, h[12]);
        int channels = h[9] switch { 0 => 1, 2 => 3, 6 => 4, _ => throw new InvalidDataException($"colour type {h[9]}") };

        using var compressed = new MemoryStream([.. chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data)]);
        using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        byte[] bytes = raw.ToArray();

        int stride = width * channels;
        Assert.Equal((1 + stride) * height, bytes.Length);
        var pixels = new byte[stride * height];
        var filters = new byte[height];
        for (int y = 0; y < height; y++)
        {
            byte filter = bytes[y * (1 + stride)];
            filters[y] = filter;
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? pixels[y * stride + i - channels] : 0;
                int b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
                int c = i >= channels && y > 0 ? pixels[(y - 1) * stride + i - channels] : 0;
                int x = bytes[y * (1 + stride) + 1 + i];
                int predicted = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => PaethSpec(a, b, c),
                    _ => throw new InvalidDataException($"filter {filter}"),
                };
                pixels[y * stride + i] = (byte)(x + predicted);
            }
        }
        return new Image(width, height, h[9], channels, bytes, pixels, filters);
    }

    /// <summary>CRC-32 one bit at a time (no table), as in the PNG specification's sample code.</summary>
    public static uint BitwiseCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return crc ^ 0xFFFFFFFF;
    }

    private static int PaethSpec(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
        {
            return a;
        }
        return pb <= pc ? b : c;
    }
}
