using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Lab.Bench;

/// <summary>
/// One launch, 3 warm-ups and 7 iterations of about 100 ms: enough for the 2x-and-up differences the kernel
/// suites compare, in minutes rather than BenchmarkDotNet's default quarter hour. In process, so no boilerplate
/// project is built (pass no --inProcess: that would add a second, default-length job). Median and minimum beside the
/// mean, since the machine is shared, and allocations (the kernels should show none).
/// </summary>
public class FastConfig : ManualConfig
{
    public FastConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(100)).WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
