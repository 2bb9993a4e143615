using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace Lab.Bench;

/// <summary>
/// One launch, 3 warm-ups and 7 iterations of about 100 ms: enough for the 2x-and-up differences the kernel
/// suites compare, in minutes rather than BenchmarkDotNet's default quarter hour.
/// </summary>
public class FastConfig : ManualConfig
{
    public FastConfig() =>
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(100)));
}
