using System.Globalization;
using Lab.Core;
using Lab.Core.Backends;
using Spectre.Console;

namespace Lab.Bench.Throughput;

/// <summary>
/// <c>dotnet run -c Release --project Lab.Bench -- throughput ...</c> (issue 6): the seed workloads' training
/// throughput per device, optionally beside PyTorch, with a per-op profile, saved under results/bench/.
/// </summary>
public static class ThroughputCommand
{
    public static int Run(ThroughputOptions o)
    {
        // CUDA alone and unavailable: nothing to measure, say why.
        if (o.Devices is ["cuda"] && Unavailable(Lab.Core.Device.Cuda()) is string why)
        {
            Console.Error.WriteLine(why);
            return 2;
        }

        string root = RepoRoot();
        string benchDir = Path.Combine(root, "results", "bench");
        if (o.Save) BenchFolder.Refuse(benchDir, ThroughputFiles.Names);
        var machine = MachineInfo.Current();
        int threads = Environment.ProcessorCount;
        var console = o.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
        // Redirected to a file, Spectre assumes 80 columns and would wrap every cell of the wide table.
        if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 220);
        console.MarkupLine($"[grey]{Markup.Escape(machine.Describe())}[/]");
        // Each peer found (or the reason it is not), in the table's order.
        var peers = new List<(string Impl, IPeerRunner? Runner, string Missing)>();
        foreach (var impl in o.Peers)
        {
            string missing = "";
            IPeerRunner? runner = impl switch
            {
                "pytorch" => PyTorchRunner.Find(root, out missing),
                _ => TorchSharpRunner.Find(root, out missing, m => console.MarkupLine($"[grey]{Markup.Escape(m)}[/]")),
            };
            peers.Add((impl, runner, missing));
            console.MarkupLine(runner is null ? $"[yellow]{Peers.Name(impl)} column: {Markup.Escape(missing)}[/]" : $"[grey]{Markup.Escape(runner.Description)}[/]");
        }

        var results = new List<ThroughputResult>();
        foreach (var w in o.Workloads)
            foreach (var device in o.Devices)
            {
                int batch = o.BatchFor(w);
                // Each peer's best configuration for this workload first (short trials), then the rounds alternate
                // GenLab and the peers so that a change of load on a shared machine hits every column alike.
                var plans = new List<(string Impl, IPeerRunner? Runner, PeerConfig? Best, string Note)>();
                foreach (var (impl, runner, missing) in peers)
                {
                    if (runner is null) { plans.Add((impl, null, null, missing)); continue; }
                    if (runner.Missing(w.Name) is string absent) { plans.Add((impl, null, null, absent)); continue; }
                    console.MarkupLine($"[grey]{w.Name} on {device}: trying {Peers.Name(impl)}'s configurations ...[/]");
                    var (best, trials) = Peers.Tune(runner, w.Name, device, batch, threads, Math.Max(0.5, o.Seconds / 4));
                    plans.Add((impl, runner, best, trials));
                }
                var ours = new List<ThroughputResult>();
                var traced = new List<ThroughputResult>();
                var theirs = plans.Select(_ => new List<ThroughputResult>()).ToList();
                for (int round = 1; round <= o.Rounds; round++)
                {
                    console.MarkupLine($"[grey]{w.Name} on {device}, round {round} of {o.Rounds} ...[/]");
                    ours.Add(MeasureGenLab(w, device, batch, threads, o));
                    if (o.Traced) traced.Add(MeasureGenLab(w, device, batch, threads, o, traced: true));
                    foreach (var ((impl, runner, best, note), rounds) in plans.Zip(theirs))
                        rounds.Add(runner is null ? ThroughputResult.Failed(w.Name, device, impl, note, batch, threads)
                            : best is null ? ThroughputResult.Failed(w.Name, device, impl, "no configuration ran: " + note, batch, threads)
                            : runner.Measure(w.Name, device, batch, best, o.Seconds, o.WarmupSeconds));
                }
                Emit(results, ThroughputResult.Combine(ours), o.Json);
                if (o.Traced) Emit(results, ThroughputResult.Combine(traced), o.Json);
                foreach (var ((_, runner, _, note), rounds) in plans.Zip(theirs))
                    Emit(results, ThroughputResult.Combine(rounds) with { Trials = runner is null ? null : note }, o.Json);
            }

        var table = new ThroughputTable(results, o.Devices, o.Peers);
        if (!o.Json)
        {
            Render(console, table);
            if (o.Peers.Count > 0)
                foreach (var g in ThroughputGoals.Check(results))
                    console.MarkupLine(Markup.Escape($"{g.Goal}: {g.Measured}, {g.Verdict}{(g.Distance.Length > 0 ? " (" + g.Distance + ")" : "")}"));
        }

        var profiles = new List<ProfileReport>();
        PracticalPeak? peak = null;
        if (o.Profile)
        {
            if (o.Workloads.Any(w => w.Name.StartsWith("mnist", StringComparison.Ordinal)) && o.Devices.Contains("cpu"))
            {
                console.MarkupLine("[grey]measuring the practical peak (SGEMM 1024^3) ...[/]");
                peak = PracticalPeak.Measure(machine);
                console.MarkupLine($"[grey]{Markup.Escape(peak.Describe(CultureInfo.InvariantCulture))}[/]");
            }
            foreach (var w in o.Workloads)
                foreach (var device in o.Devices)
                {
                    if (Unavailable(Lab.Core.Device.Parse(device)) is not null) continue;
                    ProfileReport report;
                    try
                    {
                        var run = w.Create(Lab.Core.Device.Parse(device), o.BatchFor(w));
                        report = ProfileReport.Collect(w.Name, device, run, Math.Max(1, o.Seconds / 2));
                    }
                    catch (Exception e) when (device != "cpu")
                    {
                        console.MarkupLine($"[yellow]profile of {w.Name} on {device}: {Markup.Escape(e.Message)}[/]");
                        continue;
                    }
                    profiles.Add(report);
                    bool withPeak = device == "cpu" && w.Name.StartsWith("mnist", StringComparison.Ordinal);
                    if (!o.Json)
                        Console.Out.WriteLine(report.ToMarkdown(15, withPeak ? peak?.Gflops : null, peak?.Source ?? ""));
                }
        }

        if (o.Save)
        {
            var files = ThroughputFiles.Write(benchDir, machine, o, results, table, profiles, peak,
                peers.Select(p => (p.Impl, p.Runner?.Description ?? p.Missing)).ToList());
            foreach (var f in files) console.MarkupLine($"[grey]wrote {Markup.Escape(Path.GetRelativePath(root, f))}[/]");
        }
        return 0;
    }

    private static void Emit(List<ThroughputResult> results, ThroughputResult r, bool json)
    {
        results.Add(r);
        if (json) Console.Out.WriteLine(r.ToJsonLine());
    }

    /// <summary>The device's DeviceUnavailableException message, or null when it can be used.</summary>
    internal static string? Unavailable(Device device)
    {
        try
        {
            BackendRegistry.For(device);
            return null;
        }
        catch (DeviceUnavailableException e) { return e.Message; }
    }

    /// <summary>The implementation name of GenLab's traced measurement in results and JSON.</summary>
    public const string TracedImpl = "genlab-traced";

    /// <summary>GenLab's eager step, or (<paramref name="traced"/>) the same step through a TracedStep, on a fresh copy of the workload.</summary>
    private static ThroughputResult MeasureGenLab(Workload w, string device, int batch, int threads, ThroughputOptions o, bool traced = false)
    {
        string impl = traced ? TracedImpl : "genlab";
        try
        {
            var run = w.Create(Lab.Core.Device.Parse(device), batch);
            var timing = StepTimer.Measure(traced ? run.StepTraced : run.Step, run.Sync, o.Seconds, o.WarmupSeconds);
            // A device that refused its graphs replayed kernel by kernel: the result says so rather than pass for a graph's.
            string? config = run.Trace?.DeviceGraphFailure is { } refused ? $"device graphs given up, kernels one by one ({refused})"
                : run.Trace is { CapturedGraphs: > 0 } t ? $"{t.CapturedGraphs} device graphs" : null;
            run.Trace?.Dispose();
            return ThroughputResult.Measured(w.Name, device, batch, w.ImagesPerStep(batch), threads, timing) with { Impl = impl, Config = config };
        }
        catch (DeviceUnavailableException e) { return ThroughputResult.Failed(w.Name, device, impl, e.Message, batch, threads); }
        // A device backend still missing an op shows as that column's error; CPU failures are bugs and propagate.
        catch (Exception e) when (device != "cpu") { return ThroughputResult.Failed(w.Name, device, impl, $"{e.GetType().Name}: {e.Message}", batch, threads); }
    }

    private static void Render(IAnsiConsole console, ThroughputTable table)
    {
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var (h, i) in table.Header.Select((h, i) => (h, i)))
            t.AddColumn(new TableColumn(Markup.Escape(h)) { Alignment = i == 0 ? Justify.Left : Justify.Right });
        foreach (var row in table.Rows)
            t.AddRow(row.Select(c => c.EndsWith("missed", StringComparison.Ordinal) ? $"[red]{Markup.Escape(c)}[/]"
                : c.EndsWith("met", StringComparison.Ordinal) ? $"[green]{Markup.Escape(c)}[/]" : Markup.Escape(c)).ToArray());
        console.Write(t);
    }

    /// <summary>The directory holding GenLab.sln, searched upward from the working directory, then from the binary.</summary>
    internal static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "GenLab.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}
