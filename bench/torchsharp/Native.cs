using System.Runtime.InteropServices;

namespace TorchSharpPeer;

/// <summary>The process-level settings the PyTorch peer makes too: glibc's malloc kept from returning freed blocks, page faults counted.</summary>
public static partial class Native
{
    private const int MTrimThreshold = -1, MMmapThreshold = -3;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    /// <summary>
    /// Keep freed large blocks in glibc's heap instead of returning them to the OS, as seed_workloads.py's --malloc tuned:
    /// every step allocates the same activation sizes again, and fresh pages cost a fault each on first touch.
    /// </summary>
    public static string TuneMalloc()
    {
        try
        {
            bool ok = Mallopt(MMmapThreshold, 32 << 20) == 1 && Mallopt(MTrimThreshold, 1 << 30) == 1;
            return ok ? "glibc mallopt(mmap threshold 32 MiB, trim threshold 1 GiB)" : "glibc malloc defaults (mallopt refused)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "malloc defaults (no glibc)";
        }
    }

    /// <summary>This process's minor page faults so far (/proc/self/stat field 10), or null off Linux.</summary>
    public static long? MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
