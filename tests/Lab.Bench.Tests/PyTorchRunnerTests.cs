namespace Lab.Bench.Tests;

/// <summary>
/// The PyTorch peer's process, driven through a stand-in interpreter (a shell script that answers as
/// seed_workloads.py does), so these run without torch: what the child is given, and how its best configuration is chosen.
/// </summary>
public class PyTorchRunnerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("genlab-peer-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A fake python: `-c ...` prints a version; a script call prints one result line whose rate depends on
    /// --threads and --mkldnn, and whose config reports the OpenBLAS variables it was given.</summary>
    private PyTorchRunner Fake(string rateExpression)
    {
        Directory.CreateDirectory(Path.Combine(_root, "bench", "pytorch"));
        File.WriteAllText(Path.Combine(_root, "bench", "pytorch", "seed_workloads.py"), "# stand-in");
        string python = Path.Combine(_root, "python");
        File.WriteAllText(python, $$"""
            #!/bin/sh
            if [ "$1" = "-c" ]; then echo 9.9; exit 0; fi
            shift
            while [ $# -gt 0 ]; do
              case "$1" in --threads) t=$2; shift;; --mkldnn) m=$2; shift;; --workloads) w=$2; shift;; esac; shift
            done
            rate=$({{rateExpression}})
            echo "{\"workload\": \"$w\", \"device\": \"cpu\", \"impl\": \"pytorch\", \"batch\": 10, \"threads\": $t, \"steps_per_s\": $rate, \"config\": \"$t threads, mkldnn=$m, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}, OMP_NUM_THREADS=$OMP_NUM_THREADS\"}"
            """.Replace("\r", ""));
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return PyTorchRunner.Find(_root, [python], out var reason) ?? throw new InvalidOperationException(reason);
    }

    [Fact]
    public void The_peer_environment_drops_the_variables_that_force_old_openblas_kernels()
    {
        var env = new Dictionary<string, string?> { ["OPENBLAS_CORETYPE"] = "Haswell", ["OPENBLAS_L2_SIZE"] = "262144", ["PATH"] = "/usr/bin", ["OMP_NUM_THREADS"] = "8" };
        PyTorchRunner.ConfigureEnvironment(env, 2);
        Assert.Equal(new Dictionary<string, string?> { ["PATH"] = "/usr/bin", ["OMP_NUM_THREADS"] = "2", ["OPENBLAS_NUM_THREADS"] = "1", ["MKL_NUM_THREADS"] = "1" }, env);
    }

    [Fact]
    public void The_child_gets_that_environment_and_the_configuration()
    {
        // On this machine OPENBLAS_CORETYPE is set in the test process itself (left alone here); the child must not see it.
        var runner = Fake("echo 100");
        Assert.Equal("9.9", runner.Version);
        var r = runner.Measure("toy_mlp_b10", "cpu", 10, new PeerConfig(2, false), 0.1, 0.1);
        Assert.True(r.Ok, r.Error);
        Assert.Contains("OPENBLAS_CORETYPE=unset", r.Config);
        Assert.Contains("OPENBLAS_L2_SIZE=unset", r.Config);
        Assert.Contains("OMP_NUM_THREADS=2", r.Config);
        Assert.Contains("mkldnn=off", r.Config);
    }

    [Fact]
    public void Tuning_picks_the_fastest_configuration_and_says_what_each_gave()
    {
        // One thread with oneDNN off is fastest here (as for torch 1.13's digits-sized convolutions on two cores).
        var runner = Fake("""if [ "$t" = 1 ] && [ "$m" = off ]; then echo 900; elif [ "$t" = 1 ]; then echo 500; else echo 700; fi""");
        var (best, trials) = runner.Tune("digits_cnn_b10", "cpu", 10, cores: 2, trialSeconds: 0.1);
        Assert.Equal(new PeerConfig(1, false), best);
        Assert.Equal("1 thread, oneDNN on: 500 steps/s; 1 thread, oneDNN off: 900 steps/s; 2 threads, oneDNN on: 700 steps/s; 2 threads, oneDNN off: 700 steps/s", trials);
    }

    [Fact]
    public void Tuning_with_no_working_configuration_returns_none_with_the_reasons()
    {
        var runner = Fake("echo broken >&2; exit 3");
        var (best, trials) = runner.Tune("toy_mlp_b10", "cpu", 10, cores: 1, trialSeconds: 0.1);
        Assert.Null(best);
        Assert.Contains("exited with", trials);
    }
}
