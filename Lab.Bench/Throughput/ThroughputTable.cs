using System.Globalization;
using System.Text;

namespace Lab.Bench.Throughput;

/// <summary>
/// The results as one table (workloads down, device groups across), rendered to the console by Spectre
/// and to throughput.md by <see cref="ToMarkdown"/>; both read the same cells.
/// </summary>
public sealed class ThroughputTable
{
    public ThroughputTable(IReadOnlyList<ThroughputResult> results, IReadOnlyList<string> devices, bool withPyTorch)
        : this(results, devices, withPyTorch ? ["pytorch"] : []) { }

    /// <summary>
    /// GenLab's columns per device, then each peer's (PyTorch: steps/s, min–max, images/s, config; TorchSharp: steps/s,
    /// min–max, config), then GenLab ÷ the best peer (the fastest one that ran; named when there are several) and the target.
    /// </summary>
    public ThroughputTable(IReadOnlyList<ThroughputResult> results, IReadOnlyList<string> devices, IReadOnlyList<string> peers)
    {
        // With traced measurements (throughput --traced), GenLab's traced step gets its columns beside the eager one.
        bool traced = results.Any(r => r.Impl == ThroughputCommand.TracedImpl);
        var header = new List<string> { "workload" };
        foreach (var d in devices)
        {
            header.AddRange([$"GenLab {d} steps/s", "min–max", "images/s", "ms/step", "alloc B/step"]);
            if (traced) header.AddRange([$"GenLab traced {d} steps/s", "min–max", "traced ÷ eager"]);
            foreach (var peer in peers)
            {
                string name = Peers.Name(peer);
                header.AddRange(peer == "pytorch" ? [$"{name} {d} steps/s", "min–max", "images/s", $"{name} config"] : [$"{name} {d} steps/s", "min–max", $"{name} config"]);
            }
            if (peers.Count > 0) header.AddRange([peers.Count == 1 ? $"GenLab ÷ {Peers.Name(peers[0])}" : "GenLab ÷ best peer", "target"]);
        }
        Header = header;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var workload in results.Select(r => r.Workload).Distinct())
        {
            var row = new List<string> { workload };
            foreach (var d in devices)
            {
                var ours = results.FirstOrDefault(r => r.Workload == workload && r.Device == d && r.Impl == "genlab");
                if (ours is { Ok: true })
                    row.AddRange([Rate(ours.StepsPerS), Spread(ours), Rate(ours.ImagesPerS), Ms(ours.MsPerStep), Bytes(ours.AllocatedBytesPerStep)]);
                else
                    row.AddRange([ours?.Error ?? "not run", "", "", "", ""]);
                var ourTrace = traced ? results.FirstOrDefault(r => r.Workload == workload && r.Device == d && r.Impl == ThroughputCommand.TracedImpl) : null;
                if (traced)
                {
                    if (ourTrace is { Ok: true })
                        row.AddRange([Rate(ourTrace.StepsPerS), Spread(ourTrace), Ratio(ourTrace, ours) is double te ? te.ToString("0.00", CultureInfo.InvariantCulture) + "x" : ""]);
                    else
                        row.AddRange([ourTrace?.Error ?? "not run", "", ""]);
                }
                if (peers.Count == 0) continue;
                var theirs = peers.Select(p => results.FirstOrDefault(r => r.Workload == workload && r.Device == d && r.Impl == p)).ToList();
                foreach (var (peer, t) in peers.Zip(theirs))
                {
                    bool images = peer == "pytorch";
                    if (t is { Ok: true })
                        row.AddRange(images ? [Rate(t.StepsPerS), Spread(t), Rate(t.ImagesPerS), ShortConfig(t.Config)] : [Rate(t.StepsPerS), Spread(t), ShortConfig(t.Config)]);
                    else
                        row.AddRange(images ? [t?.Error ?? "not run", "", "", ""] : [t?.Error ?? "not run", "", ""]);
                }
                var best = Best(theirs);
                // GenLab's faster form (eager or traced) against the best peer, naming the traced step when it is the one.
                bool byTrace = TracedIsFaster(ours, ourTrace);
                var ratio = Ratio(byTrace ? ourTrace : ours, best);
                double target = Target(workload);
                var names = new List<string>();
                if (byTrace && ratio is not null) names.Add("traced");
                if (peers.Count > 1 && best is not null) names.Add(Peers.Name(best.Impl));
                string bestName = names.Count > 0 ? $" ({string.Join(" vs ", names)})" : "";
                row.Add(ratio is double r0 ? r0.ToString("0.00", CultureInfo.InvariantCulture) + "x" + bestName : "");
                row.Add(d == "cpu" ? $"≥ {target.ToString("0.#", CultureInfo.InvariantCulture)}x {(ratio is double r1 ? (r1 >= target ? "met" : "missed") : "")}".TrimEnd() : "");
            }
            rows.Add(row);
        }
        Rows = rows;
    }

    public IReadOnlyList<string> Header { get; }
    public IReadOnlyList<IReadOnlyList<string>> Rows { get; }

    /// <summary>Whether GenLab's traced result is the faster form to set against the peers (it ran, and eager did not or was slower).</summary>
    public static bool TracedIsFaster(ThroughputResult? eager, ThroughputResult? traced) =>
        traced is { Ok: true } && (eager is not { Ok: true } || traced.StepsPerS > eager.StepsPerS);

    /// <summary>The fastest peer that ran, or null when none did.</summary>
    public static ThroughputResult? Best(IEnumerable<ThroughputResult?> peers) =>
        peers.Where(p => p is { Ok: true }).OrderByDescending(p => p!.StepsPerS).FirstOrDefault();

    /// <summary>GenLab ÷ a peer in steps per second (the same as images per second: same batches).</summary>
    public static double? Ratio(ThroughputResult? ours, ThroughputResult? theirs) =>
        ours is { Ok: true } && theirs is { Ok: true } && theirs.StepsPerS > 0 ? ours.StepsPerS / theirs.StepsPerS : null;

    /// <summary>
    /// The CPU goals against the best peer (issue 16): 2.5x on mnist_cnn_b32, 10x on the tiny seed workloads; the
    /// sequence workloads (issue 14) aim to beat PyTorch's fused LSTM at all, 1x.
    /// </summary>
    public static double Target(string workload) =>
        workload.StartsWith("mnist", StringComparison.Ordinal) ? 2.5
        : workload.StartsWith("lstm", StringComparison.Ordinal) || workload.StartsWith("attention", StringComparison.Ordinal) ? 1
        : 10;

    /// <summary>The rounds' min–max steps/s, or empty for a single round.</summary>
    public static string Spread(ThroughputResult r) =>
        r is { RoundsStepsPerS.Count: > 1, MinStepsPerS: double lo, MaxStepsPerS: double hi } ? $"{Rate(lo)}–{Rate(hi)}" : "";

    /// <summary>The threads and oneDNN parts of a peer's config line ("1 threads, ..., mkldnn=off" → "1 thread, oneDNN off").</summary>
    public static string ShortConfig(string? config)
    {
        if (config is null) return "";
        var threads = System.Text.RegularExpressions.Regex.Match(config, @"(\d+) threads");
        var onednn = System.Text.RegularExpressions.Regex.Match(config, @"mkldnn=(\w+)");
        var parts = new List<string>();
        if (threads.Success) parts.Add(threads.Groups[1].Value == "1" ? "1 thread" : threads.Groups[1].Value + " threads");
        if (onednn.Success) parts.Add("oneDNN " + onednn.Groups[1].Value.ToLowerInvariant().Replace("true", "on").Replace("false", "off"));
        // The TorchSharp peer turns oneDNN off, whatever was asked, where its convolutions fail the peer's check.
        if (config.Contains("oneDNN's convolutions were wrong", StringComparison.Ordinal)) parts.Add("oneDNN's gradients wrong here");
        return string.Join(", ", parts);
    }

    public static string Rate(double? x) => x switch
    {
        null => "",
        >= 100 => x.Value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => x.Value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => x.Value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    public static string Ms(double? x) => x is double v ? v.ToString(v >= 10 ? "0.0" : v >= 1 ? "0.00" : "0.000", CultureInfo.InvariantCulture) : "";

    public static string Bytes(double? x) => x switch
    {
        null => "",
        >= 1 << 20 => (x.Value / (1 << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (x.Value / (1 << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => x.Value.ToString("0", CultureInfo.InvariantCulture) + " B",
    };

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Header.Select(Escape)) + " |");
        sb.AppendLine("| " + string.Join(" | ", Header.Select((_, i) => i == 0 ? "---" : "---:")) + " |");
        foreach (var row in Rows) sb.AppendLine("| " + string.Join(" | ", row.Select(Escape)) + " |");
        return sb.ToString();
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|").Replace("\n", " ");
}
