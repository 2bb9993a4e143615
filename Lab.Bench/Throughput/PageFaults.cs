using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Lab.Bench.Throughput;

/// <summary>
/// Minor page faults: memory the OS hands out afresh costs a fault per 4 KiB page on first touch. Cheap on
/// bare metal (a fraction of a microsecond), it costs over 10 µs in some VMs, where a step that allocates
/// megabytes of new activations can spend half its time faulting.
/// </summary>
public static class PageFaults
{
    /// <summary>This process's minor faults so far (Linux /proc/self/stat field 10), null elsewhere.</summary>
    public static long? Count()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Microseconds per first touch of a fresh page: 64 MiB from the native allocator (mmap'd, so
    /// fresh), one byte written per page, best of three.</summary>
    public static unsafe double FreshPageMicroseconds()
    {
        const int bytes = 64 << 20, page = 4096;
        double best = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            byte* p = (byte*)NativeMemory.Alloc(bytes);
            try
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int off = 0; off < bytes; off += page) p[off] = 1;
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMicroseconds / (bytes / page));
            }
            finally { NativeMemory.Free(p); }
        }
        return best;
    }
}
