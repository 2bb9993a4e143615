using System.Buffers.Binary;
using System.IO.Compression;

namespace Lab.Core.IO;

/// <summary>
/// Opens a file that may or may not be gzip-compressed. The decision comes from the first two bytes (the gzip
/// magic 1F 8B), not from the name, so a decompressed copy that kept its ".gz" name still reads.
/// </summary>
public static class MaybeGzip
{
    /// <summary>True when <paramref name="header"/> starts with the gzip magic bytes 1F 8B.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == 0x1F && header[1] == 0x8B;

    /// <summary>
    /// Opens <paramref name="path"/> for reading, decompressing on the fly when it is gzip. A gzip file cut short
    /// fails with an <see cref="InvalidDataException"/> naming it when its end is read (see <see cref="CheckedGzip"/>).
    /// </summary>
    public static Stream OpenRead(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            if (!IsGzip(magic[..got]))
            {
                file.Position = 0;
                return file;
            }
            // The trailer's last field, ISIZE: the uncompressed length modulo 2^32.
            if (file.Length < MinimumGzipLength)
                throw new InvalidDataException($"{path}: truncated gzip file: {file.Length} bytes, shorter than any gzip stream.");
            Span<byte> size = stackalloc byte[4];
            file.Position = file.Length - 4;
            file.ReadExactly(size);
            file.Position = 0;
            return new CheckedGzip(new GZipStream(file, CompressionMode.Decompress), path, BinaryPrimitives.ReadUInt32LittleEndian(size));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole (decompressed) content of <paramref name="path"/>. A corrupt gzip stream becomes an
    /// <see cref="InvalidDataException"/> that names the file.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        using var stream = OpenRead(path);
        if (stream is FileStream plain)
        {
            var bytes = new byte[plain.Length];
            plain.ReadExactly(bytes);
            return bytes;
        }
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);   // corrupt or cut-short data fails naming the file (see CheckedGzip)
        return buffer.ToArray();
    }

    /// <summary>A 10-byte header, an empty deflate block and the 8-byte trailer.</summary>
    private const int MinimumGzipLength = 20;

    /// <summary>
    /// GZipStream reports a stream that stops before its trailer as a normal end, handing back the partial data
    /// (a digits file cut at a row boundary would load as fewer digits). zlib itself checks the trailer's CRC-32 and
    /// length when it reaches them; what is missing is noticing that it never did. This wrapper compares the length
    /// decompressed with the file's last four bytes (ISIZE) at the end: a cut file ends in compressed data, which
    /// matches the length read with odds of 2^-32. A file of several concatenated gzip members fails the same way
    /// (ISIZE covers only the last member); the data files GenLab reads are single members.
    /// </summary>
    private sealed class CheckedGzip(GZipStream inner, string path, uint trailerSize) : Stream
    {
        private long _length;
        private bool _verified;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            try { n = inner.Read(buffer); }
            catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{path}: corrupt gzip data after {_length} bytes: {e.Message}", e);
            }
            _length += n;
            if (n == 0 && buffer.Length > 0 && !_verified)
            {
                if ((uint)_length != trailerSize)
                    throw new InvalidDataException(
                        $"{path}: truncated gzip file: the compressed data ends after {_length} bytes without its trailer (the file was cut short).");
                _verified = true;
            }
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
