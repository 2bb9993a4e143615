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
        PyTorchRunner? torch = null;
        string torchMissing = "";
        if (o.ComparePyTorch) torch = PyTorchRunner.Find(root, out torchMissing);
        var console = o.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
        // Redirected to a file, Spectre assumes 80 columns and would wrap every cell of the wide table.
        if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 220);
        console.MarkupLine($"[grey]{Markup.Escape(machine.Describe())}[/]");
        if (o.ComparePyTorch)
            console.MarkupLine(torch is null ? $"[yellow]PyTorch column: {Markup.Escape(torchMissing)}[/]" : $"[grey]PyTorch {Markup.Escape(torch.Version)} via {Markup.Escape(torch.Python)}[/]");

        var results = new List<ThroughputResult>();
        foreach (var w in o.Workloads)
            foreach (var device in o.Devices)
            {
                int batch = o.BatchFor(w);
                // PyTorch's best configuration for this workload first (short trials), then the rounds alternate
                // GenLab and PyTorch so that a change of load on a shared machine hits both columns alike.
                PeerConfig? best = null;
                string trials = torchMissing;
                if (torch is not null)
                {
                    console.MarkupLine($"[grey]{w.Name} on {device}: trying PyTorch's configurations ...[/]");
                    (best, trials) = torch.Tune(w.Name, device, batch, threads, Math.Max(0.5, o.Seconds / 4));
                }
                var ours = new List<ThroughputResult>();
                var theirs = new List<ThroughputResult>();
                for (int round = 1; round <= o.Rounds; round++)
                {
                    console.MarkupLine($"[grey]{w.Name} on {device}, round {round} of {o.Rounds} ...[/]");
                    ours.Add(MeasureGenLab(w, device, batch, threads, o));
                    if (!o.ComparePyTorch) continue;
                    theirs.Add(torch is null ? ThroughputResult.Failed(w.Name, device, "pytorch", torchMissing, batch, threads)
                        : best is null ? ThroughputResult.Failed(w.Name, device, "pytorch", "no configuration ran: " + trials, batch, threads)
                        : torch.Measure(w.Name, device, batch, best, o.Seconds, o.WarmupSeconds));
                }
                Emit(results, ThroughputResult.Combine(ours), o.Json);
                if (o.ComparePyTorch)
                    Emit(results, ThroughputResult.Combine(theirs) with { Trials = torch is null ? null : trials }, o.Json);
            }

        var table = new ThroughputTable(results, o.Devices, o.ComparePyTorch);
        if (!o.Json) Render(console, table);

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
                torch is null ? torchMissing : $"PyTorch {torch.Version} via {torch.Python}");
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

    private static ThroughputResult MeasureGenLab(Workload w, string device, int batch, int threads, ThroughputOptions o)
    {
        try
        {
            var run = w.Create(Lab.Core.Device.Parse(device), batch);
            var timing = StepTimer.Measure(run.Step, run.Sync, o.Seconds, o.WarmupSeconds);
            return ThroughputResult.Measured(w.Name, device, batch, w.ImagesPerStep(batch), threads, timing);
        }
        catch (DeviceUnavailableException e) { return ThroughputResult.Failed(w.Name, device, "genlab", e.Message, batch, threads); }
        // A device backend still missing an op shows as that column's error; CPU failures are bugs and propagate.
        catch (Exception e) when (device != "cpu") { return ThroughputResult.Failed(w.Name, device, "genlab", $"{e.GetType().Name}: {e.Message}", batch, threads); }
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
