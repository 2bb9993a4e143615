namespace Lab.Bench.Tests;

/// <summary>
/// The TorchSharp peer driven through a stand-in dotnet (a shell script that builds and answers as bench/torchsharp
/// does), so these run without libtorch or a package registry: the build on first use, the failure messages, what the
/// child is given, and how its best configuration is chosen.
/// </summary>
public class TorchSharpRunnerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("genlab-torchsharp-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Program => Path.Combine(_root, TorchSharpRunner.Program);

    /// <summary>
    /// A fake dotnet: `--version` answers; `build` runs <paramref name="build"/> (by default it writes the program and
    /// counts the builds); `PROGRAM --list` lists two workloads; a measuring call prints one result line whose rate
    /// depends on --threads and --mkldnn, and whose config reports what the child's environment held.
    /// </summary>
    private string FakeDotnet(string rateExpression, string? build = null)
    {
        Directory.CreateDirectory(Path.Combine(_root, "bench", "torchsharp"));
        File.WriteAllText(Path.Combine(_root, TorchSharpRunner.Project), "<Project />");
        string dotnet = Path.Combine(_root, "dotnet");
        build ??= $"""mkdir -p "$(dirname '{Program}')" && echo built > '{Program}' && echo x >> '{_root}/builds'""";
        File.WriteAllText(dotnet, $$"""
            #!/bin/sh
            if [ "$1" = "--version" ]; then echo 10.0.100; exit 0; fi
            if [ "$1" = "build" ]; then {{build}}; exit $?; fi
            if [ "$2" = "--list" ]; then echo "toy_mlp_b10,digits_cnn_b10"; exit 0; fi
            shift
            while [ $# -gt 0 ]; do
              case "$1" in --threads) t=$2; shift;; --mkldnn) m=$2; shift;; --workloads) w=$2; shift;; esac; shift
            done
            rate=$({{rateExpression}}) || exit $?
            echo "NNPACK would warn here" >&2
            echo "{\"workload\": \"$w\", \"device\": \"cpu\", \"impl\": \"torchsharp\", \"batch\": 10, \"threads\": $t, \"steps_per_s\": $rate, \"config\": \"TorchSharp 0.107.0, $t threads, mkldnn=$m, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, OMP_NUM_THREADS=$OMP_NUM_THREADS\"}"
            """.Replace("\r", ""));
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dotnet;
    }

    private TorchSharpRunner Find(string dotnet) =>
        TorchSharpRunner.Find(_root, [dotnet], out var reason) ?? throw new InvalidOperationException(reason);

    private int Builds => File.Exists(Path.Combine(_root, "builds")) ? File.ReadAllLines(Path.Combine(_root, "builds")).Length : 0;

    [Fact]
    public void The_peer_is_built_on_first_use_then_reused_until_its_sources_change()
    {
        string dotnet = FakeDotnet("echo 100");
        var messages = new List<string>();
        var runner = TorchSharpRunner.Find(_root, [dotnet], out _, messages.Add);
        Assert.NotNull(runner);
        Assert.Equal(1, Builds);
        Assert.Contains("building the TorchSharp peer", Assert.Single(messages));
        Assert.Equal(["toy_mlp_b10", "digits_cnn_b10"], runner.Workloads);

        Find(dotnet);
        Assert.Equal(1, Builds);

        File.SetLastWriteTimeUtc(Program, DateTime.UtcNow.AddMinutes(-5));
        File.WriteAllText(Path.Combine(_root, "bench", "torchsharp", "Workloads.cs"), "// changed");
        Find(dotnet);
        Assert.Equal(2, Builds);
    }

    [Fact]
    public void A_failed_restore_says_the_peer_is_unavailable_with_nugets_error()
    {
        // MSBuild prints restore errors as "path : error NU1301: ..." (twice: in the log and the summary).
        string dotnet = FakeDotnet("echo 100", build: """
            echo "  Determining projects to restore..."
            echo "/x/TorchSharpPeer.csproj : error NU1301: Unable to load the service index for source https://example.invalid/index.json."
            echo "Build FAILED." ; exit 1
            """);
        Assert.Null(TorchSharpRunner.Find(_root, [dotnet], out var reason));
        Assert.StartsWith("TorchSharp peer unavailable: `dotnet build bench/torchsharp/TorchSharpPeer.csproj -c Release` failed (exit 1): ", reason);
        Assert.EndsWith("error NU1301: Unable to load the service index for source https://example.invalid/index.json.", reason);
    }

    [Fact]
    public void No_dotnet_and_no_project_are_named()
    {
        Assert.Null(TorchSharpRunner.Find(_root, ["/nonexistent/dotnet"], out var reason));
        Assert.Equal($"TorchSharp peer unavailable: no {Path.Combine(_root, TorchSharpRunner.Project)}", reason);
        FakeDotnet("echo 100");
        Assert.Null(TorchSharpRunner.Find(_root, ["/nonexistent/dotnet"], out reason));
        Assert.Equal("TorchSharp peer unavailable: no dotnet to build it (/nonexistent/dotnet: not found)", reason);
    }

    [Fact]
    public void A_peer_that_does_not_start_gives_its_last_error_line()
    {
        // What an unpatched libLibTorchSharp.so does on Debian 12, say.
        string dotnet = FakeDotnet("echo 100");
        File.WriteAllText(dotnet, File.ReadAllText(dotnet).Replace("""if [ "$2" = "--list" ]; then echo "toy_mlp_b10,digits_cnn_b10"; exit 0; fi""",
            """if [ "$2" = "--list" ]; then echo "Unhandled exception. System.TypeInitializationException" >&2; echo "   version GLIBCXX_3.4.32 not found" >&2; exit 134; fi"""));
        Assert.Null(TorchSharpRunner.Find(_root, [dotnet], out var reason));
        Assert.Equal($"TorchSharp peer unavailable: {TorchSharpRunner.Program} --list exited with 134: version GLIBCXX_3.4.32 not found", reason);
    }

    [Fact]
    public void The_peer_environment_sizes_openmp_and_mkl_to_the_threads_and_drops_openblas_overrides()
    {
        var env = new Dictionary<string, string?> { ["OPENBLAS_CORETYPE"] = "Haswell", ["OPENBLAS_L2_SIZE"] = "262144", ["PATH"] = "/usr/bin", ["MKL_NUM_THREADS"] = "1" };
        TorchSharpRunner.ConfigureEnvironment(env, 2);
        Assert.Equal(new Dictionary<string, string?> { ["PATH"] = "/usr/bin", ["OMP_NUM_THREADS"] = "2", ["MKL_NUM_THREADS"] = "2" }, env);
    }

    [Fact]
    public void The_child_gets_the_peer_environment_and_the_configuration()
    {
        var r = Find(FakeDotnet("echo 100")).Measure("toy_mlp_b10", "cpu", 10, new PeerConfig(2, false), 0.1, 0.1);
        Assert.True(r.Ok, r.Error);
        Assert.Equal("torchsharp", r.Impl);
        Assert.Contains("OPENBLAS_CORETYPE=unset", r.Config);
        Assert.Contains("OMP_NUM_THREADS=2", r.Config);
        Assert.Contains("mkldnn=off", r.Config);
    }

    [Fact]
    public void A_workload_the_peer_lacks_is_not_run_and_says_so()
    {
        var runner = Find(FakeDotnet("echo 100"));
        Assert.Equal("not in the TorchSharp peer", runner.Missing("lstm_adding_b32_t200"));
        Assert.Null(runner.Missing("digits_cnn_b10"));
        var r = runner.Measure("lstm_adding_b32_t200", "cpu", 32, new PeerConfig(1, true), 0.1, 0.1);
        Assert.Equal("not in the TorchSharp peer", r.Error);
    }

    [Fact]
    public void A_crash_while_measuring_gives_the_exit_code_and_last_error_line()
    {
        var r = Find(FakeDotnet("echo 'Unhandled exception. System.OutOfMemoryException' >&2; exit 3")).Measure("toy_mlp_b10", "cpu", 10, new PeerConfig(1, true), 0.1, 0.1);
        Assert.False(r.Ok);
        Assert.Equal("TorchSharp peer exited with 3: Unhandled exception. System.OutOfMemoryException", r.Error);
    }

    [Fact]
    public void Tuning_picks_the_fastest_configuration_and_says_what_each_gave()
    {
        var runner = Find(FakeDotnet("""if [ "$t" = 1 ] && [ "$m" = off ]; then echo 900; elif [ "$t" = 1 ]; then echo 500; else echo 700; fi"""));
        var (best, trials) = Peers.Tune(runner, "digits_cnn_b10", "cpu", 10, cores: 2, trialSeconds: 0.1);
        Assert.Equal(new PeerConfig(1, false), best);
        Assert.Equal("1 thread, oneDNN on: 500 steps/s; 1 thread, oneDNN off: 900 steps/s; 2 threads, oneDNN on: 700 steps/s; 2 threads, oneDNN off: 700 steps/s", trials);
    }

    [Theory]
    [InlineData("  Determining projects to restore...\n/a/b.csproj : error NU1101: Unable to find package TorchSharp-cpu. No packages exist with this id in source(s): local\n/a/b.csproj : error NU1101: again\nBuild FAILED.",
        "/a/b.csproj : error NU1101: Unable to find package TorchSharp-cpu. No packages exist with this id in source(s): local")]
    [InlineData("something else went wrong\nfinal words\n", "final words")]
    [InlineData("", "no output")]
    public void The_build_error_is_the_first_error_line(string output, string expected) =>
        Assert.Equal(expected, TorchSharpRunner.BuildError(output));
}
