using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lab.Core.IO;

namespace Lab.Bench.Throughput;

/// <summary>results/bench/throughput.json and throughput.md: the numbers, the machine, and how they were measured.</summary>
public static class ThroughputFiles
{
    /// <summary>What <see cref="Write"/> may replace in the folder (checked first by <see cref="BenchFolder.Refuse"/>).</summary>
    public static readonly string[] Names = ["throughput.json", "throughput.md", "throughput.svg", "throughput.png"];

    public static IReadOnlyList<string> Write(string dir, MachineInfo machine, ThroughputOptions o, IReadOnlyList<ThroughputResult> results,
        ThroughputTable table, IReadOnlyList<ProfileReport> profiles, PracticalPeak? peak, IReadOnlyList<(string Impl, string Description)> peers)
    {
        string? pytorch = peers.FirstOrDefault(p => p.Impl == "pytorch").Description;
        string? torchsharp = peers.FirstOrDefault(p => p.Impl == "torchsharp").Description;
        Directory.CreateDirectory(dir);
        var inv = CultureInfo.InvariantCulture;
        string json = Path.Combine(dir, "throughput.json"), md = Path.Combine(dir, "throughput.md");

        var doc = new JsonObject
        {
            ["machine"] = JsonSerializer.SerializeToNode(machine, ThroughputResult.Options),
            ["seconds"] = o.Seconds,
            ["warmup_seconds"] = o.WarmupSeconds,
            ["chunks"] = StepTimer.Chunks,
            ["rounds"] = o.Rounds,
            ["pytorch"] = pytorch,
            ["torchsharp"] = torchsharp,
            ["results"] = JsonNode.Parse(ThroughputResult.ToJsonArray(results)),
        };
        if (peak is not null) doc["practical_peak"] = JsonSerializer.SerializeToNode(peak, ThroughputResult.Options);
        AtomicFile.WriteAllText(json, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var sb = new StringBuilder();
        sb.AppendLine("# Seed workload throughput");
        sb.AppendLine();
        sb.AppendLine(inv, $"Machine: {machine.Describe()}.");
        sb.AppendLine(inv, $"Load average (1, 5, 15 min) at the start: {machine.LoadAverage}; at the end: {MachineInfo.LoadAverageNow()}. First touch of a fresh 4 KiB page: {machine.FreshPageMicroseconds:F2} µs.");
        if (machine.TheoreticalPeakGflops is double tp)
            sb.AppendLine(inv, $"Theoretical FP32 peak: {tp:F0} GFLOP/s ({MachineInfo.FlopsPerCyclePerCore} FLOP/cycle/core x {machine.MaxMhz / 1000:F2} GHz nominal x {machine.LogicalCores} cores){(peak is not null && peak.Gflops > tp ? $"; the measured SGEMM exceeds it, so the cores run at {peak.Gflops / MachineInfo.FlopsPerCyclePerCore / machine.LogicalCores:F1} GHz or more" : "")}.");
        if (peak is not null) sb.AppendLine(inv, $"Practical peak: {peak.Describe(inv)}.");
        sb.AppendLine();
        sb.AppendLine(inv, $"Command: `dotnet run -c Release --project Lab.Bench -- throughput {string.Join(" ", CommandLine(o))}`, at commit {Lab.Core.IO.RunManifest.SourceCommit}.");
        sb.AppendLine();
        sb.AppendLine(table.ToMarkdown());
        sb.AppendLine("![steps per second](throughput.png)");
        sb.AppendLine();
        if (o.Peers.Count > 0)
        {
            sb.AppendLine("Issue 16's goals against this run (GenLab's faster form, eager or traced; the distance is what is still needed):");
            sb.AppendLine();
            sb.AppendLine(ThroughputGoals.ToMarkdown(ThroughputGoals.Check(results)));
        }
        var faultRows = results.Where(r => r.PageFaultsPerStep is not null).GroupBy(r => (r.Workload, r.Device)).ToList();
        if (faultRows.Count > 0)
        {
            sb.AppendLine(inv, $"Minor page faults per step (fresh memory touched for the first time, {machine.FreshPageMicroseconds:F1} µs each on this machine):");
            sb.AppendLine();
            var impls = new[] { "genlab" }.Concat(o.Traced ? [ThroughputCommand.TracedImpl] : Array.Empty<string>()).Concat(o.Peers).ToArray();
            sb.AppendLine("| workload | device | " + string.Join(" | ", impls.Select(Peers.Name)) + " |");
            sb.AppendLine("| --- | --- |" + string.Concat(impls.Select(_ => " ---: |")));
            foreach (var g in faultRows)
            {
                string Cell(string impl) => g.FirstOrDefault(r => r.Impl == impl)?.PageFaultsPerStep is double f ? f.ToString("0.#", inv) : "";
                sb.AppendLine(inv, $"| {g.Key.Workload} | {g.Key.Device} | {string.Join(" | ", impls.Select(Cell))} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine("How it is measured:");
        sb.AppendLine();
        sb.AppendLine(inv, $"- A step is one optimizer update on one batch (gan_digits_b16_d5: 5 discriminator updates with the generator in inference mode, then 1 generator update). images/s counts the batch per step, x5 for the GAN (real images seen by D).");
        sb.AppendLine(inv, $"- Each workload warms up for {o.WarmupSeconds} s, then runs {o.Seconds} s in {StepTimer.Chunks} parts; a round's rate is the median part's, so a burst of load from elsewhere spoils one part, not the result.");
        sb.AppendLine(inv, $"- {o.Rounds} round{(o.Rounds == 1 ? "" : "s")} per workload, alternating GenLab and {(o.Peers.Count == 0 ? "nothing else" : string.Join(" and ", o.Peers.Select(Peers.Name)))} in one run; the table shows the median round with the rounds' min–max.");
        sb.AppendLine("- Data: 8 batches of synthetic inputs of the seed shapes (uniform [0, 1) images, normal 2-D points, cycled labels), resident on the device before timing.");
        sb.AppendLine("- alloc B/step: managed bytes allocated per step, all threads (GC.GetTotalAllocatedBytes(precise: true)). The stepping thread itself allocates 0 bytes per step for every workload (Lab.Bench.Tests checks it); a few bytes per step can come from the runtime's own threads (tiered compilation, timers), so long steps show more of them.");
        if (o.ComparePyTorch)
        {
            sb.AppendLine(inv, $"- PyTorch: {pytorch}. bench/pytorch/seed_workloads.py runs the same models, batches, optimizers (Adam with eps 1e-7) and steps; configuration in bench/pytorch/README.md.");
            sb.AppendLine("- PyTorch at its best per workload: before the rounds, a short trial of 1 thread and all cores, each with oneDNN on and off (the CPU), and the fastest is timed; Adam's foreach variant is chosen the same way inside the script. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from its environment.");
            foreach (var r in results.Where(r => r.Impl == "pytorch" && r.Config is not null))
                sb.AppendLine(inv, $"  - {r.Workload} on {r.Device}: {r.Config}{(r.Trials is null ? "" : $". Trials: {r.Trials}")}");
        }
        if (o.CompareTorchSharp)
        {
            sb.AppendLine(inv, $"- TorchSharp: {torchsharp}. bench/torchsharp (its own project, not in GenLab.sln; README there) runs the same models, batches, optimizers and steps in TorchSharp-cpu 0.107 on libtorch 2.10, what a .NET user would pick instead of GenLab; tried at 1 thread and all cores, oneDNN on and off, as PyTorch.");
            sb.AppendLine("- Its libLibTorchSharp.so asks for GLIBCXX_3.4.32 for one symbol no code calls (std::ios_base_library_init); the peer's build marks that requirement weak in its own copy so that it loads on Debian 12's libstdc++. Before timing a workload with convolutions it checks them (forward and gradients) against float64; where oneDNN's are wrong, it uses ATen's and says so in its config.");
            foreach (var r in results.Where(r => r.Impl == "torchsharp" && r.Config is not null))
                sb.AppendLine(inv, $"  - {r.Workload} on {r.Device}: {r.Config}{(r.Trials is null ? "" : $". Trials: {r.Trials}")}");
        }
        if (o.Peers.Count > 1)
            sb.AppendLine("- GenLab ÷ best peer: against the fastest peer that ran the workload (named in the cell); the target is against it.");
        if (profiles.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Profiles");
            sb.AppendLine();
            sb.AppendLine("Forward time is charged to layers (exclusive of children), backward time to autograd nodes by kind and input shape; the harness times the loss, the engine's bookkeeping and the optimizer as phases.");
            sb.AppendLine();
            foreach (var p in profiles)
            {
                bool withPeak = p.Device == "cpu" && p.Workload.StartsWith("mnist", StringComparison.Ordinal);
                sb.AppendLine(p.ToMarkdown(20, withPeak ? peak?.Gflops : null, peak?.Source ?? ""));
            }
        }
        var written = new List<string> { json, md };
        var chart = ThroughputChart.Save(Path.Combine(dir, "throughput"), results);
        if (chart is not null) written.AddRange(chart);
        AtomicFile.WriteAllText(md, sb.ToString());
        BenchFolder.Mark(dir, "throughput " + string.Join(" ", CommandLine(o)), written.Select(Path.GetFileName).OfType<string>());
        return written;
    }

    private static IEnumerable<string> CommandLine(ThroughputOptions o)
    {
        yield return "--device " + (o.Devices.Count > 1 ? "all" : o.Devices[0]);
        if (o.Workloads.Count != Workload.All.Length) yield return "--workloads " + string.Join(",", o.Workloads.Select(w => w.Name));
        yield return "--seconds " + o.Seconds.ToString(CultureInfo.InvariantCulture);
        yield return "--rounds " + o.Rounds.ToString(CultureInfo.InvariantCulture);
        if (o.Batch is int b) yield return "--batch " + b;
        if (o.Peers is ["pytorch"]) yield return "--compare-pytorch";
        else if (o.Peers.Count > 0) yield return "--compare " + string.Join(",", o.Peers);
        if (o.Traced) yield return "--traced";
        if (o.Profile) yield return "--profile";
    }
}
