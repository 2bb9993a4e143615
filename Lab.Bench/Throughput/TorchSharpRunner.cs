using System.Globalization;

namespace Lab.Bench.Throughput;

/// <summary>
/// The TorchSharp peer (bench/torchsharp, README there): what a .NET user would pick instead of GenLab. Its project is
/// not in GenLab.sln, so that building and testing GenLab never downloads libtorch; <see cref="Find(string, out string, Action{string}?)"/>
/// builds it in Release on first use (again when its sources are newer than the build), then runs one workload per
/// process call as <see cref="PyTorchRunner"/> does.
/// </summary>
public sealed class TorchSharpRunner : IPeerRunner
{
    /// <summary>The peer's project, relative to the repository root.</summary>
    public static readonly string Project = Path.Combine("bench", "torchsharp", "TorchSharpPeer.csproj");
    /// <summary>Where its Release build goes (the project sets OutputPath to bin/$(Configuration)/).</summary>
    public static readonly string Program = Path.Combine("bench", "torchsharp", "bin", "Release", "TorchSharpPeer.dll");
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(20); // the first restore fetches about 1 GB of libtorch

    private TorchSharpRunner(string dotnet, string program, IReadOnlyList<string> workloads) =>
        (Dotnet, ProgramPath, Workloads) = (dotnet, program, workloads);

    public string Dotnet { get; }
    public string ProgramPath { get; }
    /// <summary>The workloads the peer has (its --list).</summary>
    public IReadOnlyList<string> Workloads { get; }

    public string Impl => "torchsharp";
    public string Description => $"TorchSharp peer {ProgramPath} via {Dotnet}";
    public string? Missing(string workload) => Workloads.Contains(workload) ? null : "not in the TorchSharp peer";

    /// <summary>
    /// Finds dotnet ($DOTNET_HOST_PATH, then $DOTNET_ROOT/dotnet, then dotnet on PATH), builds the peer when its build is
    /// missing or older than its sources, and asks it for its workloads. Null with the reason, starting
    /// "TorchSharp peer unavailable:", when any step fails.
    /// </summary>
    public static TorchSharpRunner? Find(string repoRoot, out string reason, Action<string>? progress = null)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host) candidates.Add(host);
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root) candidates.Add(Path.Combine(root, "dotnet"));
        candidates.Add("dotnet");
        return Find(repoRoot, candidates, out reason, progress);
    }

    /// <summary><see cref="Find(string, out string, Action{string}?)"/> with the given dotnet hosts, in order.</summary>
    public static TorchSharpRunner? Find(string repoRoot, IEnumerable<string> dotnets, out string reason, Action<string>? progress = null)
    {
        const string unavailable = "TorchSharp peer unavailable: ";
        string project = Path.Combine(repoRoot, Project), program = Path.Combine(repoRoot, Program);
        if (!File.Exists(project)) { reason = unavailable + $"no {project}"; return null; }
        var tried = new List<string>();
        string? dotnet = null;
        foreach (var candidate in dotnets.Distinct())
        {
            var (rc, stdout, stderr) = Peers.Run(candidate, ["--version"], TimeSpan.FromSeconds(60));
            if (rc == 0 && stdout.Trim().Length > 0) { dotnet = candidate; break; }
            tried.Add($"{candidate}: {(rc == -1 ? "not found" : Peers.LastLine(stderr))}");
        }
        if (dotnet is null) { reason = unavailable + "no dotnet to build it (" + string.Join("; ", tried) + ")"; return null; }

        if (Stale(Path.GetDirectoryName(project)!, program))
        {
            progress?.Invoke($"building the TorchSharp peer ({Path.GetRelativePath(repoRoot, project)}; the first build restores TorchSharp-cpu with libtorch, about 1 GB) ...");
            var (rc, stdout, stderr) = Peers.Run(dotnet, ["build", project, "-c", "Release", "-nologo", "-v", "q"], BuildTimeout);
            if (rc != 0 || !File.Exists(program))
            {
                reason = unavailable + $"`dotnet build {Path.GetRelativePath(repoRoot, project)} -c Release` failed ({(rc == 124 ? "timed out" : $"exit {rc}")}): {BuildError(stdout + "\n" + stderr)}";
                return null;
            }
        }
        var list = Peers.Run(dotnet, [program, "--list"], TimeSpan.FromSeconds(120));
        var workloads = list.Stdout.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Rc != 0 || workloads.Length == 0)
        {
            reason = unavailable + $"{Path.GetRelativePath(repoRoot, program)} --list exited with {list.Rc}: {Peers.LastLine(list.Stderr)}";
            return null;
        }
        reason = "";
        return new TorchSharpRunner(dotnet, program, workloads);
    }

    /// <summary>True when the build is missing or older than a source of the project (its top folder: code, project, patch script).</summary>
    public static bool Stale(string projectDir, string program)
    {
        if (!File.Exists(program)) return true;
        var built = File.GetLastWriteTimeUtc(program);
        return Directory.EnumerateFiles(projectDir)
            .Where(f => Path.GetExtension(f) is ".cs" or ".csproj" or ".props" or ".targets" or ".py")
            .Any(f => File.GetLastWriteTimeUtc(f) > built);
    }

    /// <summary>The build's first error line (MSBuild prints each twice; NuGet's restore errors name the package), else its last line.</summary>
    public static string BuildError(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains(": error ", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "no output";
    }

    public ThroughputResult Measure(string workload, string device, int batch, PeerConfig config, double seconds, double warmup)
    {
        if (Missing(workload) is string missing) return ThroughputResult.Failed(workload, device, Impl, missing, batch, config.Threads);
        string[] args = [ProgramPath, "--device", device, "--workloads", workload, "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--threads", config.Threads.ToString(CultureInfo.InvariantCulture), "--mkldnn", config.OneDnn ? "on" : "off",
            "--seconds", seconds.ToString("R", CultureInfo.InvariantCulture), "--warmup", warmup.ToString("R", CultureInfo.InvariantCulture)];
        var (rc, stdout, stderr) = Peers.Run(Dotnet, args, TimeSpan.FromSeconds(120 + 6 * (seconds + warmup)), env => ConfigureEnvironment(env, config.Threads));
        var result = stdout.Split('\n').Select(ThroughputResult.TryParse).LastOrDefault(r => r is not null);
        if (result is not null) return result with { Impl = Impl };
        return ThroughputResult.Failed(workload, device, Impl, $"TorchSharp peer exited with {rc}: {Peers.LastLine(stderr)}", batch, config.Threads);
    }

    /// <summary>
    /// The peer's environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed as for PyTorch; OpenMP and MKL (which
    /// libtorch's CPU build links statically, unlike Debian's torch with the system OpenBLAS) sized to the threads.
    /// </summary>
    public static void ConfigureEnvironment(IDictionary<string, string?> environment, int threads)
    {
        environment.Remove("OPENBLAS_CORETYPE");
        environment.Remove("OPENBLAS_L2_SIZE");
        environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        environment["MKL_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
    }
}
