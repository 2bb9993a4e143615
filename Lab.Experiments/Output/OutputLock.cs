using System.Security.Cryptography;
using System.Text;

namespace Lab.Experiments.Output;

/// <summary>
/// One run at a time per output folder. The lock is a file opened with <see cref="FileShare.None"/>, which .NET
/// backs with flock(2) on Unix: exclusive between processes and between runs in one process, and released by the
/// kernel when its holder dies, even by SIGKILL, so a crashed run never leaves a stale lock. The lock file lives in
/// the temp folder, named by a hash of the output folder's full path, so nothing is ever left beside the results.
/// </summary>
public sealed class OutputLock : IDisposable
{
    // What .NET reports when flock(LOCK_EX | LOCK_NB) finds the file locked: EWOULDBLOCK's errno on Linux (11) and
    // macOS (35) as the HResult, or ERROR_SHARING_VIOLATION on Windows.
    private static bool IsHeldElsewhere(IOException e) =>
        e.HResult is 11 or 35 or unchecked((int)0x80070020) || e.Message.Contains("being used by another process", StringComparison.Ordinal);

    private readonly FileStream _file;

    private OutputLock(FileStream file) => _file = file;

    /// <summary>Lock files unused this long are removed by the next run that takes a lock (one file per output folder ever used).</summary>
    public static readonly TimeSpan Unused = TimeSpan.FromDays(7);

    /// <summary>Takes the lock for <paramref name="folder"/>, or returns null when another run holds it.</summary>
    public static OutputLock? TryAcquire(string folder)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"genlab-locks-{Environment.UserName}");
        Directory.CreateDirectory(dir);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.TrimEndingDirectorySeparator(folder))))[..24];
        FileStream file;
        try { file = new FileStream(Path.Combine(dir, hash + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (IsHeldElsewhere(e)) { return null; }
        File.SetLastWriteTimeUtc(file.SafeFileHandle, DateTime.UtcNow); // in use: not pruned
        Prune(dir);
        return new OutputLock(file);
    }

    /// <summary>
    /// Removes lock files not taken for <see cref="Unused"/>, each while holding it. (A run that opened one just before
    /// and locks it just after would hold a deleted file; for a folder unused for a week, that race is not worth a design.)
    /// </summary>
    private static void Prune(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir, "*.lock"))
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < Unused) continue;
                using var stale = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    public void Dispose() => _file.Dispose();
}
