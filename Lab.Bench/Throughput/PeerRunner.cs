using System.Diagnostics;

namespace Lab.Bench.Throughput;

/// <summary>
/// Another library's version of the seed workloads, run one workload per process call so that GenLab and the peers
/// alternate workload by workload: <see cref="PyTorchRunner"/> (bench/pytorch) and <see cref="TorchSharpRunner"/> (bench/torchsharp).
/// </summary>
public interface IPeerRunner
{
    /// <summary>The results' <see cref="ThroughputResult.Impl"/>: "pytorch", "torchsharp".</summary>
    string Impl { get; }
    /// <summary>What runs, for the console and throughput.md ("PyTorch 1.13.1 via /usr/bin/python3").</summary>
    string Description { get; }
    /// <summary>Why this peer has no version of a workload, or null when it has one.</summary>
    string? Missing(string workload);
    /// <summary>One workload on one device in one configuration; a result with Error set when the peer fails.</summary>
    ThroughputResult Measure(string workload, string device, int batch, PeerConfig config, double seconds, double warmup);
}

public static class Peers
{
    /// <summary>The peers <c>--compare</c> knows, in the table's order.</summary>
    public static readonly string[] Known = ["pytorch", "torchsharp"];

    /// <summary>A peer's name in headers and notes.</summary>
    public static string Name(string impl) => impl switch
    {
        "pytorch" => "PyTorch",
        "torchsharp" => "TorchSharp",
        "genlab" => "GenLab",
        ThroughputCommand.TracedImpl => "GenLab traced",
        _ => impl,
    };

    /// <summary>
    /// A peer at its best for one workload: a short trial of every configuration in <see cref="PeerConfig.Candidates"/>
    /// (1 thread and all cores; oneDNN on and off on the CPU), the fastest one returned with what each trial gave
    /// (for the table's notes). Null, with every trial's outcome, when none ran.
    /// </summary>
    public static (PeerConfig? Best, string Trials) Tune(IPeerRunner peer, string workload, string device, int batch, int cores, double trialSeconds)
    {
        var trials = new List<(PeerConfig Config, ThroughputResult Result)>();
        foreach (var config in PeerConfig.Candidates(device, cores))
            trials.Add((config, peer.Measure(workload, device, batch, config, trialSeconds, Math.Min(0.5, trialSeconds / 2))));
        var best = trials.Where(t => t.Result.Ok).OrderByDescending(t => t.Result.StepsPerS).Select(t => (PeerConfig?)t.Config).FirstOrDefault();
        string Describe((PeerConfig Config, ThroughputResult Result) t) =>
            $"{t.Config}: {(t.Result.Ok ? ThroughputTable.Rate(t.Result.StepsPerS) + " steps/s" : t.Result.Error)}";
        return (best, string.Join("; ", trials.Select(Describe)));
    }

    internal static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";

    /// <summary>Runs a process, its environment adjusted by <paramref name="environment"/>; rc -1 when it cannot start, 124 on timeout.</summary>
    internal static (int Rc, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, TimeSpan timeout,
        Action<IDictionary<string, string?>>? environment = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        environment?.Invoke(psi.Environment);
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                return (124, stdout.Result, $"timed out after {timeout.TotalSeconds:F0} s");
            }
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception) { return (-1, "", "not found"); }
    }
}
