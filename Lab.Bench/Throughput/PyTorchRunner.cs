using System.Globalization;

namespace Lab.Bench.Throughput;

/// <summary>
/// Runs bench/pytorch/seed_workloads.py, one workload per process call so that GenLab and PyTorch alternate
/// workload by workload (a change of load on a shared machine then hits both columns alike).
/// </summary>
public sealed class PyTorchRunner : IPeerRunner
{
    private PyTorchRunner(string python, string script, string version) => (Python, Script, Version) = (python, script, version);

    public string Python { get; }
    public string Script { get; }
    /// <summary>torch.__version__ as the interpreter reports it.</summary>
    public string Version { get; }

    public string Impl => "pytorch";
    public string Description => $"PyTorch {Version} via {Python}";
    /// <summary>seed_workloads.py answers an unknown workload with an error line of its own.</summary>
    public string? Missing(string workload) => null;

    /// <summary>
    /// Finds a Python that imports torch ($GENLAB_PYTHON first, then Debian's /usr/bin/python3, then python3 on
    /// PATH) and the script under the repository root. Returns null with the reason when there is none.
    /// </summary>
    public static PyTorchRunner? Find(string repoRoot, out string reason)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("GENLAB_PYTHON") is { Length: > 0 } env) candidates.Add(env);
        candidates.AddRange(["/usr/bin/python3", "python3", "python"]);
        return Find(repoRoot, candidates, out reason);
    }

    /// <summary><see cref="Find(string, out string)"/> over the given interpreters, in order.</summary>
    public static PyTorchRunner? Find(string repoRoot, IEnumerable<string> candidates, out string reason)
    {
        string script = Path.Combine(repoRoot, "bench", "pytorch", "seed_workloads.py");
        if (!File.Exists(script)) { reason = $"no {script}"; return null; }
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

    /// <summary>One workload on one device in one configuration; a result with Error set when the script fails.</summary>
    public ThroughputResult Measure(string workload, string device, int batch, PeerConfig config, double seconds, double warmup)
    {
        string[] args = [Script, "--device", device, "--workloads", workload, "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--threads", config.Threads.ToString(CultureInfo.InvariantCulture), "--mkldnn", config.OneDnn ? "on" : "off",
            "--seconds", seconds.ToString("R", CultureInfo.InvariantCulture), "--warmup", warmup.ToString("R", CultureInfo.InvariantCulture)];
        var (rc, stdout, stderr) = Run(Python, args, TimeSpan.FromSeconds(120 + 6 * (seconds + warmup)), config.Threads);
        var result = stdout.Split('\n').Select(ThroughputResult.TryParse).LastOrDefault(r => r is not null);
        if (result is not null) return result with { Impl = "pytorch" };
        return ThroughputResult.Failed(workload, device, "pytorch", $"seed_workloads.py exited with {rc}: {LastLine(stderr)}", batch, config.Threads);
    }

    /// <summary>
    /// PyTorch at its best for one workload: a short trial of every configuration in <see cref="PeerConfig.Candidates"/>
    /// (1 thread and all cores; oneDNN on and off on the CPU), the fastest one returned with what each trial gave
    /// (for the table's notes). Null, with every trial's outcome, when none ran.
    /// </summary>
    public (PeerConfig? Best, string Trials) Tune(string workload, string device, int batch, int cores, double trialSeconds) =>
        Peers.Tune(this, workload, device, batch, cores, trialSeconds);

    private static string LastLine(string text) => Peers.LastLine(text);

    /// <summary>
    /// The peer's environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (a machine may set them to force older
    /// OpenBLAS kernels, about half the SGEMM rate here), BLAS single-threaded under torch's own OpenMP pool of
    /// <paramref name="threads"/>.
    /// </summary>
    public static void ConfigureEnvironment(IDictionary<string, string?> environment, int threads)
    {
        environment.Remove("OPENBLAS_CORETYPE");
        environment.Remove("OPENBLAS_L2_SIZE");
        environment["OPENBLAS_NUM_THREADS"] = "1";
        environment["MKL_NUM_THREADS"] = "1";
        environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a process; rc -1 when it cannot start. BLAS and OpenMP thread counts are set as the script documents.</summary>
    private static (int Rc, string Stdout, string Stderr) Run(string file, string[] args, TimeSpan timeout, int threads = 1) =>
        Peers.Run(file, args, timeout, env => ConfigureEnvironment(env, threads));
}

/// <summary>How a peer runs one workload: its thread count and whether oneDNN (mkldnn) is enabled.</summary>
public sealed record PeerConfig(int Threads, bool OneDnn)
{
    /// <summary>The configurations tried per workload: 1 thread and all cores, oneDNN on and off (the CPU only).</summary>
    public static IReadOnlyList<PeerConfig> Candidates(string device, int cores)
    {
        var threads = new[] { 1, Math.Max(1, cores) }.Distinct();
        return device == "cpu"
            ? threads.SelectMany(t => new[] { new PeerConfig(t, true), new PeerConfig(t, false) }).ToArray()
            : [new PeerConfig(Math.Max(1, cores), true)];
    }

    public override string ToString() => $"{Threads} thread{(Threads == 1 ? "" : "s")}, oneDNN {(OneDnn ? "on" : "off")}";
}
