using System.Runtime.InteropServices;

namespace Lab.Experiments.Output;

/// <summary>
/// Linux's renameat2(RENAME_EXCHANGE): swaps two existing paths in one atomic step, so a reader of the output
/// folder sees the old results or the new ones at every instant. Where the call or the file system lacks it
/// (other systems, some network file systems), <see cref="TrySwap"/> says so and the caller falls back to two
/// renames covered by <see cref="OutputFolder"/>'s recovery. GENLAB_RENAME_EXCHANGE=0 forces that fallback (tests).
/// </summary>
public static partial class RenameExchange
{
    private const int AtCurrentDirectory = -100;
    private const uint Exchange = 2;

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    public static bool Enabled => OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("GENLAB_RENAME_EXCHANGE") != "0";

    /// <summary>Swaps <paramref name="a"/> and <paramref name="b"/>; false (nothing changed) where the exchange is not available.</summary>
    public static bool TrySwap(string a, string b)
    {
        if (!Enabled) return false;
        try { return RenameAt2(AtCurrentDirectory, a, AtCurrentDirectory, b, Exchange) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}
