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

    /// <summary>Takes the lock for <paramref name="folder"/>, or returns null when another run holds it.</summary>
    public static OutputLock? TryAcquire(string folder)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"genlab-locks-{Environment.UserName}");
        Directory.CreateDirectory(dir);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.TrimEndingDirectorySeparator(folder))))[..24];
        try { return new OutputLock(new FileStream(Path.Combine(dir, hash + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)); }
        catch (IOException e) when (IsHeldElsewhere(e)) { return null; }
    }

    public void Dispose() => _file.Dispose();
}
