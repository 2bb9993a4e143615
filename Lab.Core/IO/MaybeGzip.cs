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

    /// <summary>Opens <paramref name="path"/> for reading, decompressing on the fly when it is gzip.</summary>
    public static Stream OpenRead(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            return IsGzip(magic[..got]) ? new GZipStream(file, CompressionMode.Decompress) : file;
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
        try
        {
            stream.CopyTo(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: corrupt gzip data: {e.Message}", e);
        }
        return buffer.ToArray();
    }
}
