using System.Diagnostics;

namespace Lab.Bench.Throughput;

/// <summary>
/// Runs bench/pytorch/seed_workloads.py, one workload per process call so that GenLab and PyTorch alternate
/// workload by workload (a change of load on a shared machine then hits both columns alike).
/// </summary>
public sealed class PyTorchRunner
{
    private PyTorchRunner(string python, string script, string version) => (Python, Script, Version) = (python, script, version);

    public string Python { get; }
    public string Script { get; }
    /// <summary>torch.__version__ as the interpreter reports it.</summary>
    public string Version { get; }

    /// <summary>
    /// Finds a Python that imports torch ($GENLAB_PYTHON first, then Debian's /usr/bin/python3, then python3 on
    /// PATH) and the script under the repository root. Returns null with the reason when there is none.
    /// </summary>
    public static PyTorchRunner? Find(string repoRoot, out string reason)
    {
        string script = Path.Combine(repoRoot, "bench", "pytorch", "seed_workloads.py");
        if (!File.Exists(script)) { reason = $"no {script}"; return null; }
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("GENLAB_PYTHON") is { Length: > 0 } env) candidates.Add(env);
        candidates.AddRange(["/usr/bin/python3", "python3", "python"]);
        var tried = new List<string>();
        foreach (var python in candidates.Distinct())
        {
            var (rc, stdout, stderr) = Run(python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromSeconds(60));
            if (rc == 0 && stdout.Trim().Length > 0)
            {
                reason = "";
                return new PyTorchRunner(python, script, stdout.Trim());
            }
            tried.Add(rc == -1 ? $"{python}: not found" : $"{python}: {LastLine(stderr)}");
        }
        reason = "PyTorch not importable (" + string.Join("; ", tried) + "); on Debian: apt-get install python3-torch";
        return null;
    }

    /// <summary>One workload on one device; a result with Error set when the script fails.</summary>
    public ThroughputResult Measure(string workload, string device, int batch, int threads, double seconds, double warmup)
    {
        string[] args = [Script, "--device", device, "--workloads", workload, "--batch", batch.ToString(),
            "--threads", threads.ToString(), "--seconds", seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--warmup", warmup.ToString("R", System.Globalization.CultureInfo.InvariantCulture)];
        var (rc, stdout, stderr) = Run(Python, args, TimeSpan.FromSeconds(120 + 6 * (seconds + warmup)), threads);
        var result = stdout.Split('\n').Select(ThroughputResult.TryParse).LastOrDefault(r => r is not null);
        if (result is not null) return result with { Impl = "pytorch" };
        return ThroughputResult.Failed(workload, device, "pytorch", $"seed_workloads.py exited with {rc}: {LastLine(stderr)}", batch, threads);
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";

    /// <summary>Runs a process; rc -1 when it cannot start. BLAS and OpenMP thread counts are set as the script documents.</summary>
    private static (int Rc, string Stdout, string Stderr) Run(string file, string[] args, TimeSpan timeout, int threads = 1)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        psi.Environment["MKL_NUM_THREADS"] = "1";
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString();
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
