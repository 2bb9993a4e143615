using System.Diagnostics;

namespace Lab.Bench.Throughput;

/// <summary>What one timed window measured for one workload on one device.</summary>
public sealed record StepTiming(long Steps, double Seconds, double MedianStepsPerSecond, double AllocatedBytesPerStep, double? PageFaultsPerStep = null);

/// <summary>
/// Warm-up, then a timed window split into <see cref="Chunks"/> parts; the reported rate is the median of
/// the parts' rates, so that a neighbour's burst of work on a shared machine spoils one part, not the result.
/// Each part ends by reading the last loss back, so an asynchronous device is waited for.
/// </summary>
public static class StepTimer
{
    public const int Chunks = 5;

    public static StepTiming Measure(Action step, Func<float> sync, double seconds, double warmupSeconds)
    {
        var sw = Stopwatch.StartNew();
        int warm = 0;
        while (warm < 3 || sw.Elapsed.TotalSeconds < warmupSeconds) { step(); warm++; }
        sync();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long? faultsBefore = PageFaults.Count();
        var rates = new double[Chunks];
        long steps = 0;
        double total = 0, chunkSeconds = seconds / Chunks;
        for (int c = 0; c < Chunks; c++)
        {
            long n = 0;
            sw.Restart();
            do { step(); n++; } while (sw.Elapsed.TotalSeconds < chunkSeconds);
            sync();
            double elapsed = sw.Elapsed.TotalSeconds;
            rates[c] = n / elapsed;
            steps += n;
            total += elapsed;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double? faults = PageFaults.Count() - faultsBefore is long f ? f / (double)steps : null;
        return new StepTiming(steps, total, Median(rates), allocated / (double)steps, faults);
    }

    public static double Median(double[] values)
    {
        if (values.Length == 0) throw new ArgumentException("Median of no values.", nameof(values));
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
