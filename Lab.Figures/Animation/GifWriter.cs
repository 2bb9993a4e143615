using System.Buffers.Binary;
using Lab.Core.IO;
using SkiaSharp;

namespace Lab.Figures.Animation;

/// <summary>
/// Writes an animated GIF frame by frame, so a long animation never holds all its frames: GIF89a header and
/// logical screen, the NETSCAPE2.0 application extension (loop count, 0 = forever), then per frame a graphic
/// control extension (delay in hundredths of a second), an image descriptor with its own local colour table
/// (each frame quantised on its own: exact when it has at most 256 colours), and LZW data. Dispose writes the
/// trailer.
/// </summary>
public sealed class GifWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly LzwEncoder _lzw = new();
    private bool _finished;

    /// <param name="stream">Where the bytes go; left open.</param>
    /// <param name="width">Logical screen width: every frame must have this size.</param>
    /// <param name="height">Logical screen height.</param>
    /// <param name="delayCentiseconds">Time each frame stays on screen (25 = 4 frames per second).</param>
    /// <param name="loopCount">Number of repetitions, 0 = loop forever.</param>
    public GifWriter(Stream stream, int width, int height, int delayCentiseconds = 25, int loopCount = 0)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(delayCentiseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delayCentiseconds, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(loopCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loopCount, ushort.MaxValue);
        _stream = stream;
        Width = width;
        Height = height;
        DelayCentiseconds = delayCentiseconds;

        _stream.Write("GIF89a"u8);
        WriteUInt16(width);
        WriteUInt16(height);
        _stream.WriteByte(0x70); // no global colour table, colour resolution 8 bits
        _stream.WriteByte(0);    // background colour index
        _stream.WriteByte(0);    // square pixels

        _stream.Write([0x21, 0xFF, 11]);
        _stream.Write("NETSCAPE2.0"u8);
        _stream.Write([3, 1]);
        WriteUInt16(loopCount);
        _stream.WriteByte(0);
    }

    public int Width { get; }
    public int Height { get; }
    public int DelayCentiseconds { get; }
    public int FrameCount { get; private set; }

    /// <summary>Appends one frame of the screen's size; <paramref name="delayCentiseconds"/> overrides the
    /// default delay for this frame.</summary>
    public void AddFrame(SKBitmap frame, int? delayCentiseconds = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_finished, this);
        if (frame.Width != Width || frame.Height != Height)
        {
            throw new ArgumentException($"Frame is {frame.Width}x{frame.Height}; the animation is {Width}x{Height}.", nameof(frame));
        }
        int delay = delayCentiseconds ?? DelayCentiseconds;
        ArgumentOutOfRangeException.ThrowIfNegative(delay);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delay, ushort.MaxValue);

        var quantized = ColorQuantizer.Quantize(frame);
        int bits = 1;
        while (1 << bits < quantized.ColorCount)
        {
            bits++;
        }

        // Graphic control extension: disposal "leave in place", no transparency.
        _stream.Write([0x21, 0xF9, 4, 0x04]);
        WriteUInt16(delay);
        _stream.Write([0, 0]);

        _stream.WriteByte(0x2C);
        WriteUInt16(0);
        WriteUInt16(0);
        WriteUInt16(Width);
        WriteUInt16(Height);
        _stream.WriteByte((byte)(0x80 | (bits - 1))); // local colour table of 2^bits entries, not interlaced
        var table = new byte[3 << bits];
        quantized.Palette.CopyTo(table, 0);
        _stream.Write(table);

        _lzw.Encode(_stream, quantized.Indices, Math.Max(2, bits));
        FrameCount++;
    }

    /// <summary>Writes the trailer; the stream stays open.</summary>
    public void Dispose()
    {
        if (!_finished)
        {
            _stream.WriteByte(0x3B);
            _finished = true;
        }
    }

    /// <summary>Writes <paramref name="frames"/> (all the size of the first) to <paramref name="path"/>
    /// atomically; frames are consumed one at a time. Returns the number of frames.</summary>
    public static int Save(string path, IEnumerable<SKBitmap> frames, int delayCentiseconds = 25, int loopCount = 0)
    {
        ArgumentNullException.ThrowIfNull(frames);
        int count = 0;
        AtomicFile.Write(path, stream =>
        {
            GifWriter? gif = null;
            foreach (var frame in frames)
            {
                gif ??= new GifWriter(stream, frame.Width, frame.Height, delayCentiseconds, loopCount);
                gif.AddFrame(frame);
            }
            if (gif is null)
            {
                throw new ArgumentException("An animation needs at least one frame.", nameof(frames));
            }
            gif.Dispose();
            count = gif.FrameCount;
        });
        return count;
    }

    private void WriteUInt16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        _stream.Write(b);
    }
}
