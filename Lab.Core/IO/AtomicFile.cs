using System.Text;

namespace Lab.Core.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a half-written
/// file: the bytes go to a temporary file in the same directory (so the final rename stays on one file system),
/// are flushed to disk, and the temporary file is then moved over the target in one step.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; on any exception the temporary
    /// file is removed and an existing file at <paramref name="path"/> is left as it was.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);

        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"'{path}' has no parent directory.", nameof(path));
        Directory.CreateDirectory(directory);

        // A leading dot and a random suffix keep the temporary file out of globs and unique per writer.
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                // Flush(true) reaches the disk, so a crash after the rename cannot leave an empty target.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        // Spans cannot be captured by a lambda; copy once, files here are small.
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy, 0, copy.Length));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(text);
        });
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { /* the original exception matters more than a leftover temp file */ }
        catch (UnauthorizedAccessException) { }
    }
}
