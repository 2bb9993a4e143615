using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using Lab.Bench.Throughput;

namespace Lab.Bench.Bdn;

/// <summary>
/// The configuration `bdn` runs every suite under: GitHub markdown exported into results/bench/bdn/results/,
/// MemoryDiagnoser, the GFLOP/s column, and cases on a device this machine lacks (cuda) filtered out with
/// a note, rather than failing.
/// </summary>
public static class BenchConfig
{
    public static IConfig Create(string repoRoot)
    {
        string? cuda = ThroughputCommand.Unavailable(Lab.Core.Device.Cuda());
        if (cuda is not null) Console.WriteLine($"// cuda cases filtered out: {cuda}");
        // Minimum viable (columns, console logger) plus GitHub markdown only: no CSV/HTML copies to commit.
        return ManualConfig.CreateMinimumViable()
            .AddExporter(MarkdownExporter.GitHub)
            .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
            .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
            .WithArtifactsPath(Path.Combine(repoRoot, "results", "bench", "bdn"))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(new FlopsColumn())
            .AddFilter(new SimpleFilter(c => cuda is null || !c.Parameters.Items.Any(p => p.Name == "Device" && p.Value is "cuda")))
            .WithOptions(ConfigOptions.DisableLogFile);
    }

    /// <summary>Microsecond-to-100-ms products: one launch, 3 warm-ups and 10 iterations of at least 100 ms.</summary>
    public sealed class ShortRuns : ManualConfig
    {
        public ShortRuns() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Throughput)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
            .WithId("ShortRuns"));
    }

    /// <summary>
    /// For steps from a tenth of a millisecond to a second: one launch, few warm-ups and iterations, each
    /// iteration at least 200 ms and no unrolling (a long step runs once per iteration, instead of BenchmarkDotNet's
    /// default of 15-100 pilot-sized iterations of half a second, unrolled 16 times).
    /// </summary>
    public sealed class LongSteps : ManualConfig
    {
        public LongSteps() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Throughput)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(200))
            .WithUnrollFactor(1)
            .WithId("LongSteps"));
    }
}
