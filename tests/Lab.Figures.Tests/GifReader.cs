using System.Text;

namespace Lab.Figures.Tests;

/// <summary>An independent GIF89a reader for tests: blocks, extensions, colour tables, and an LZW decoder that
/// keeps its table as (prefix, suffix) pairs and counts the clear codes it meets.</summary>
internal static class GifReader
{
    public sealed record Frame(int Left, int Top, int Width, int Height, int DelayCentiseconds, int Disposal,
        byte[] Palette, byte[] Indices, int MinCodeSize, int ClearCodes)
    {
        /// <summary>The frame's pixel colours as packed 0xRRGGBB.</summary>
        public int[] Colors() => [.. Indices.Select(i => (Palette[3 * i] << 16) | (Palette[3 * i + 1] << 8) | Palette[3 * i + 2])];
    }

    public sealed record Gif(int Width, int Height, int? LoopCount, List<Frame> Frames, bool HasTrailer);

    public static Gif Read(byte[] file)
    {
        int at = 0;
        Assert.Equal("GIF89a", Encoding.ASCII.GetString(file, 0, 6));
        at = 6;
        int width = U16(file, at), height = U16(file, at + 2);
        byte flags = file[at + 4];
        at += 7;
        byte[]? global = null;
        if ((flags & 0x80) != 0)
        {
            int size = 3 << ((flags & 7) + 1);
            global = file[at..(at + size)];
            at += size;
        }

        int? loop = null;
        int delay = 0, disposal = 0;
        var frames = new List<Frame>();
        while (at < file.Length)
        {
            byte block = file[at++];
            if (block == 0x3B)
            {
                Assert.Equal(file.Length, at);
                return new Gif(width, height, loop, frames, true);
            }
            if (block == 0x21)
            {
                byte label = file[at++];
                var sub = SubBlocks(file, ref at);
                if (label == 0xF9)
                {
                    Assert.Equal(4, sub[0].Length);
                    disposal = (sub[0][0] >> 2) & 7;
                    delay = U16(sub[0], 1);
                }
                else if (label == 0xFF && Encoding.ASCII.GetString(sub[0]) == "NETSCAPE2.0")
                {
                    Assert.Equal(3, sub[1].Length);
                    Assert.Equal(1, sub[1][0]);
                    loop = U16(sub[1], 1);
                }
                continue;
            }
            Assert.Equal(0x2C, block);
            int left = U16(file, at), top = U16(file, at + 2), w = U16(file, at + 4), h = U16(file, at + 6);
            byte imageFlags = file[at + 8];
            at += 9;
            Assert.Equal(0, imageFlags & 0x40); // not interlaced
            byte[] palette = global ?? [];
            if ((imageFlags & 0x80) != 0)
            {
                int size = 3 << ((imageFlags & 7) + 1);
                palette = file[at..(at + size)];
                at += size;
            }
            int minCodeSize = file[at++];
            byte[] data = [.. SubBlocks(file, ref at).SelectMany(b => b)];
            var (indices, clears) = Lzw(data, minCodeSize, w * h);
            frames.Add(new Frame(left, top, w, h, delay, disposal, palette, indices, minCodeSize, clears));
        }
        return new Gif(width, height, loop, frames, false);
    }

    /// <summary>Decodes GIF LZW: codes LSB-first, width from minCodeSize + 1 up to 12, growing when the next free
    /// code reaches 2^width, the table reset by the clear code, stopped by the end code.</summary>
    public static (byte[] Output, int ClearCodes) Lzw(byte[] data, int minCodeSize, int expected)
    {
        int clear = 1 << minCodeSize, end = clear + 1;
        var prefix = new int[4096];
        var suffix = new byte[4096];
        var length = new int[4096];
        for (int i = 0; i < clear; i++)
        {
            (prefix[i], suffix[i], length[i]) = (-1, (byte)i, 1);
        }
        var output = new List<byte>(expected);
        int width = minCodeSize + 1, next = clear + 2, previous = -1, clears = 0;
        long bitPos = 0;
        var scratch = new byte[4096];

        while (true)
        {
            if (bitPos + width > data.Length * 8L)
            {
                throw new InvalidDataException("LZW data ended without an end code.");
            }
            int code = 0;
            for (int b = 0; b < width; b++, bitPos++)
            {
                code |= ((data[bitPos >> 3] >> (int)(bitPos & 7)) & 1) << b;
            }
            if (code == clear)
            {
                clears++;
                (width, next, previous) = (minCodeSize + 1, clear + 2, -1);
                continue;
            }
            if (code == end)
            {
                break;
            }
            if (previous < 0)
            {
                Assert.True(code < clear, $"first code after clear must be a literal, got {code}");
                output.Add((byte)code);
                previous = code;
                continue;
            }
            Assert.True(code <= next, $"code {code} beyond next free code {next}");
            int emitted = code == next ? previous : code; // KwKwK: the new string is previous + its own first byte
            int n = length[emitted];
            for (int k = n - 1, c = emitted; k >= 0; k--, c = prefix[c])
            {
                scratch[k] = suffix[c];
            }
            byte first = scratch[0];
            output.AddRange(scratch.AsSpan(0, n));
            if (code == next)
            {
                output.Add(first);
            }
            if (next < 4096)
            {
                prefix[next] = previous;
                suffix[next] = first;
                length[next] = length[previous] + 1;
                next++;
                if (next == 1 << width && width < 12)
                {
                    width++;
                }
            }
            previous = code;
        }
        return ([.. output], clears);
    }

    private static List<byte[]> SubBlocks(byte[] file, ref int at)
    {
        var blocks = new List<byte[]>();
        while (true)
        {
            int size = file[at++];
            if (size == 0)
            {
                return blocks;
            }
            blocks.Add(file[at..(at + size)]);
            at += size;
        }
    }

    private static int U16(byte[] b, int at) => b[at] | (b[at + 1] << 8);
}
