using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Bench.Throughput;

/// <summary>The machine a run measured, for throughput.md: CPU, cores, vector ISA, clock, runtime, date.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, string Isa, double? MaxMhz, string Runtime, string Os, DateTime DateUtc,
    double FreshPageMicroseconds, string LoadAverage)
{
    public static MachineInfo Current() => new(CpuName(), Environment.ProcessorCount, DetectIsa(), MaxClockMhz(),
        RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription, DateTime.UtcNow,
        Math.Round(PageFaults.FreshPageMicroseconds(), 2), LoadAverageNow());

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg): a quiet machine shows less than 1.</summary>
    public static string LoadAverageNow()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>FP32 FLOPs per cycle per core from the widest FMA the JIT uses: 2 FMA pipes x lanes x 2.
    /// (Zen 4 splits 512-bit ops into two 256-bit halves, so this is an upper bound there.)</summary>
    public static int FlopsPerCyclePerCore =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 64 : Fma.IsSupported ? 32 : Sse.IsSupported ? 16 : 4;

    /// <summary>The theoretical FP32 peak from ISA x clock x cores, when the clock is known.</summary>
    public double? TheoreticalPeakGflops => MaxMhz is double mhz ? mhz / 1000 * FlopsPerCyclePerCore * LogicalCores : null;

    public string Describe() =>
        $"{Cpu}, {LogicalCores} logical cores, {Isa}{(MaxMhz is double m ? $", {m / 1000:F2} GHz nominal" : "")}; {Runtime} on {Os}; {DateUtc:yyyy-MM-dd HH:mm} UTC";

    private static string CpuName()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/cpuinfo");
            string Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
            string name = Field("model name"), family = Field("cpu family"), model = Field("model\t");
            string zen = (Field("vendor_id"), family) switch
            {
                ("AuthenticAMD", "25") => " (Zen 3/4)",
                ("AuthenticAMD", "26") => " (Zen 5)",
                _ => "",
            };
            return name.Length == 0 ? RuntimeInformation.ProcessArchitecture.ToString() : $"{name}{zen} family {family} model {model}";
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
        catch (UnauthorizedAccessException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    private static string DetectIsa()
    {
        var parts = new List<string>();
        if (Avx512F.IsSupported) parts.Add("AVX-512 (F" + (Avx512BW.IsSupported ? ", BW" : "") + (Avx512Vbmi.IsSupported ? ", VBMI" : "") + ")");
        else if (Avx2.IsSupported) parts.Add("AVX2");
        if (Fma.IsSupported) parts.Add("FMA");
        if (AvxVnni.IsSupported) parts.Add("AVX-VNNI");
        parts.Add($"Vector512 {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        return string.Join(", ", parts);
    }

    /// <summary>The highest clock the kernel reports (cpufreq max, else the current MHz in /proc/cpuinfo).</summary>
    private static double? MaxClockMhz()
    {
        try
        {
            const string max = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq";
            if (File.Exists(max) && double.TryParse(File.ReadAllText(max).Trim(), out var khz)) return khz / 1000;
            var mhz = File.ReadAllLines("/proc/cpuinfo").Where(l => l.StartsWith("cpu MHz", StringComparison.Ordinal))
                .Select(l => double.TryParse(l.Split(':', 2)[1].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0)
                .DefaultIfEmpty(0).Max();
            return mhz > 0 ? mhz : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
