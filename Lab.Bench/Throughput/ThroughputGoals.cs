using System.Globalization;
using System.Text;

namespace Lab.Bench.Throughput;

/// <summary>One speed goal of issue 16 against a run: what was measured, met or missed, and how far from it.</summary>
public sealed record ThroughputGoal(string Goal, string Measured, string Verdict, string Distance);

/// <summary>
/// Issue 16's goals checked against a run's results, each with its distance: every CPU workload against the best peer
/// (<see cref="ThroughputTable.Target"/>), mnist_cnn_b32 at 12,000 images/s on this 2-core CPU, and mnist_cnn_b32 traced
/// at 100,000 images/s on an H100-class GPU. A goal the run could not measure says so instead of disappearing.
/// </summary>
public static class ThroughputGoals
{
    /// <summary>mnist_cnn_b32 images per second on the 2-core CPU the issue measured (≈ 60 % of its SGEMM peak in convolution FLOPs).</summary>
    public const double MnistCpuImagesPerS = 12_000;

    /// <summary>mnist_cnn_b32 images per second through the traced step on an H100-class GPU.</summary>
    public const double MnistGpuTracedImagesPerS = 100_000;

    public static IReadOnlyList<ThroughputGoal> Check(IReadOnlyList<ThroughputResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        var goals = new List<ThroughputGoal>();
        var peers = results.Where(r => r.Impl is not ("genlab" or ThroughputCommand.TracedImpl)).Select(r => r.Impl).Distinct().ToList();
        foreach (var workload in results.Where(r => r.Device == "cpu").Select(r => r.Workload).Distinct())
        {
            var (ours, form) = Fastest(results, workload, "cpu");
            double target = ThroughputTable.Target(workload);
            string goal = $"{workload} ≥ {target.ToString("0.#", inv)}x the best peer (CPU)";
            var best = ThroughputTable.Best(peers.Select(p => results.FirstOrDefault(r => r.Workload == workload && r.Device == "cpu" && r.Impl == p)));
            if (peers.Count == 0) goals.Add(new(goal, "no peer in this run", "not measured", ""));
            else if (ThroughputTable.Ratio(ours, best) is not double ratio) goals.Add(new(goal, ours is null ? "GenLab did not run" : "no peer ran", "not measured", ""));
            else goals.Add(Judge(goal, ratio, target, $"{ratio.ToString("0.00", inv)}x ({form} {Rate(ours!.StepsPerS!.Value)} vs {Peers.Name(best!.Impl)} {Rate(best.StepsPerS!.Value)} steps/s)", "x"));

            if (workload.StartsWith("mnist", StringComparison.Ordinal))
            {
                string imagesGoal = $"{workload} ≥ {Rate(MnistCpuImagesPerS)} images/s (this 2-core CPU)";
                goals.Add(ours?.ImagesPerS is double ips
                    ? Judge(imagesGoal, ips, MnistCpuImagesPerS, $"{Rate(ips)} images/s ({form})", " images/s")
                    : new(imagesGoal, "GenLab did not run", "not measured", ""));
            }
        }

        const string gpuGoal = "mnist_cnn_b32 traced ≥ 100,000 images/s (H100-class GPU)";
        var gpu = results.FirstOrDefault(r => r.Workload.StartsWith("mnist", StringComparison.Ordinal) && r.Device == "cuda" && r.Impl == ThroughputCommand.TracedImpl);
        goals.Add(gpu is { Ok: true, ImagesPerS: double gips }
            ? Judge(gpuGoal, gips, MnistGpuTracedImagesPerS, $"{Rate(gips)} images/s (traced, cuda)", " images/s")
            : new(gpuGoal, gpu?.Error ?? "not in this run (no CUDA device, or --traced not given on cuda)", "not measured", ""));
        return goals;
    }

    /// <summary>The goals as a Markdown table with a heading line.</summary>
    public static string ToMarkdown(IReadOnlyList<ThroughputGoal> goals)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| goal | measured | verdict | distance |");
        sb.AppendLine("| --- | --- | --- | --- |");
        foreach (var g in goals) sb.AppendLine($"| {g.Goal} | {g.Measured} | {g.Verdict} | {g.Distance} |");
        return sb.ToString();
    }

    /// <summary>GenLab's faster form on a device (eager or traced), named "eager" or "traced".</summary>
    private static (ThroughputResult? Result, string Form) Fastest(IReadOnlyList<ThroughputResult> results, string workload, string device)
    {
        var eager = results.FirstOrDefault(r => r.Workload == workload && r.Device == device && r.Impl == "genlab" && r.Ok);
        var traced = results.FirstOrDefault(r => r.Workload == workload && r.Device == device && r.Impl == ThroughputCommand.TracedImpl && r.Ok);
        return ThroughputTable.TracedIsFaster(eager, traced) ? (traced, "traced") : (eager, "eager");
    }

    private static ThroughputGoal Judge(string goal, double value, double target, string measured, string unit)
    {
        var inv = CultureInfo.InvariantCulture;
        return value >= target
            ? new(goal, measured, "met", $"{(value / target).ToString("0.00", inv)}x the goal")
            : new(goal, measured, "missed", $"{(value / target * 100).ToString("0", inv)} % of the goal: {(target / value).ToString("0.00", inv)}x faster needed");
    }

    private static string Rate(double v) => ThroughputTable.Rate(v);
}
