using System.Buffers.Binary;
using System.IO.Compression;
using Lab.Core.IO;

namespace Lab.Core.Imaging;

/// <summary>
/// A managed PNG encoder for 8-bit grey, RGB and RGBA rasters: IHDR, one IDAT (zlib through
/// <see cref="ZLibStream"/>) and IEND, each chunk with its CRC-32. Every row gets the filter among the five
/// PNG filters whose output has the smallest sum of absolute values (the libpng heuristic): flat plot
/// backgrounds become runs of zeros that deflate well, while photos-like heat maps pick Paeth or Up.
/// </summary>
public static class Png
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="raster"/> as a complete PNG file.</summary>
    public static byte[] Encode(Raster raster)
    {
        using var memory = new MemoryStream();
        Write(memory, raster);
        return memory.ToArray();
    }

    /// <summary>Writes <paramref name="raster"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, Raster raster)
    {
        ArgumentNullException.ThrowIfNull(raster);
        AtomicFile.Write(path, stream => Write(stream, raster));
    }

    /// <summary>Writes <paramref name="raster"/> as PNG to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, Raster raster)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(raster);
        stream.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, raster.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], raster.Height);
        header[8] = 8; // bit depth
        header[9] = raster.Format switch { PixelFormat.Grey => 0, PixelFormat.Rgb => 2, _ => 6 };
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering, five filter types
        header[12] = 0; // no interlace
        WriteChunk(stream, "IHDR", header);
        WriteChunk(stream, "IDAT", Compress(raster));
        WriteChunk(stream, "IEND", []);
    }

    private static byte[] Compress(Raster raster)
    {
        int bpp = raster.Channels, stride = raster.Stride;
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var previous = new byte[stride]; // the row above the first row is all zeros
            var candidate = new byte[1 + stride];
            var best = new byte[1 + stride];
            for (int y = 0; y < raster.Height; y++)
            {
                var row = raster.Pixels.AsSpan(y * stride, stride);
                long bestScore = long.MaxValue;
                for (byte filter = 0; filter <= 4; filter++)
                {
                    long score = Filter(filter, row, previous, bpp, candidate);
                    if (score < bestScore)
                    {
                        bestScore = score;
                        (best, candidate) = (candidate, best);
                    }
                }
                zlib.Write(best);
                row.CopyTo(previous);
            }
        }
        return compressed.ToArray();
    }

    /// <summary>Writes filter byte + filtered row into <paramref name="output"/> and returns the sum of the
    /// filtered bytes read as signed values, the score the adaptive choice minimises.</summary>
    internal static long Filter(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> output)
    {
        output[0] = filter;
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0;
            int up = above[i];
            int upLeft = i >= bpp ? above[i - bpp] : 0;
            int predictor = filter switch
            {
                0 => 0,
                1 => left,
                2 => up,
                3 => (left + up) >> 1,
                _ => Paeth(left, up, upLeft),
            };
            byte value = (byte)(row[i] - predictor);
            output[1 + i] = value;
            int signed = (sbyte)value; // Math.Abs(sbyte.MinValue) would throw
            score += signed < 0 ? -signed : signed;
        }
        return score;
    }

    /// <summary>The PNG Paeth predictor: whichever of left, up, up-left is closest to left + up - upLeft.</summary>
    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        Span<byte> typeBytes = [(byte)type[0], (byte)type[1], (byte)type[2], (byte)type[3]];
        stream.Write(typeBytes);
        stream.Write(data);
        // The CRC covers the chunk type and data, not the length.
        BinaryPrimitives.WriteUInt32BigEndian(word, ~Crc32.Update(Crc32.Update(~0u, typeBytes), data));
        stream.Write(word);
    }
}
