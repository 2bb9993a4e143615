namespace Lab.Bench.Tests;

public class ThroughputTableTests
{
    private static ThroughputResult Ok(string workload, string device, string impl, double stepsPerS) => new()
    {
        Workload = workload, Device = device, Impl = impl, StepsPerS = stepsPerS, ImagesPerS = stepsPerS * 10, MsPerStep = 1000 / stepsPerS,
        AllocatedBytesPerStep = impl == "genlab" ? 2048 : null,
    };

    [Fact]
    public void Ratios_and_targets_per_workload()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "cpu", "genlab", 20000), Ok("toy_mlp_b10", "cpu", "pytorch", 3500),
            Ok("mnist_cnn_b32", "cpu", "genlab", 200), Ok("mnist_cnn_b32", "cpu", "pytorch", 176),
        };
        var table = new ThroughputTable(results, ["cpu"], withPyTorch: true);
        Assert.Equal(12, table.Header.Count);
        Assert.Equal(["toy_mlp_b10", "20,000", "", "200,000", "0.050", "2.0 KiB", "3,500", "", "35,000", "", "5.71x", "≥ 10x missed"], table.Rows[0]);
        Assert.Equal("1.14x", table.Rows[1][10]);
        Assert.Equal("≥ 2.5x missed", table.Rows[1][11]);
    }

    [Fact]
    public void Unavailable_cells_carry_the_reason()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "cpu", "genlab", 100),
            ThroughputResult.Failed("toy_mlp_b10", "cpu", "pytorch", "PyTorch not importable"),
            ThroughputResult.Failed("toy_mlp_b10", "cuda", "genlab", "CUDA not available: no driver"),
            ThroughputResult.Failed("toy_mlp_b10", "cuda", "pytorch", "CUDA not available: no GPU"),
        };
        var table = new ThroughputTable(results, ["cpu", "cuda"], withPyTorch: true);
        var row = table.Rows.Single();
        Assert.Equal("PyTorch not importable", row[6]);
        Assert.Equal("≥ 10x", row[11]);
        Assert.Equal("CUDA not available: no driver", row[12]);
        Assert.Equal("CUDA not available: no GPU", row[17]);
        Assert.Equal("", row[22]);
        Assert.Null(ThroughputTable.Ratio(results[0], results[1]));
    }

    [Fact]
    public void Rounds_show_the_median_round_with_the_spread_and_the_peer_config()
    {
        ThroughputResult Round(string impl, double rate, string? config = null) => Ok("digits_cnn_b10", "cpu", impl, rate) with { Config = config };
        const string config = "torch 1.13.0a0, 1 threads, OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, OPENBLAS_CORETYPE=unset, mkldnn=off, adam foreach=True";
        var ours = ThroughputResult.Combine([Round("genlab", 300), Round("genlab", 100), Round("genlab", 200)]);
        var theirs = ThroughputResult.Combine([Round("pytorch", 10, config), Round("pytorch", 30, config), Round("pytorch", 20, config), Round("pytorch", 25, config)]);
        Assert.Equal(200, ours.StepsPerS);
        Assert.Equal([300.0, 100, 200], ours.RoundsStepsPerS!);
        Assert.Equal(20, theirs.StepsPerS); // the lower middle of an even count: a round that was measured
        var row = new ThroughputTable([ours, theirs], ["cpu"], withPyTorch: true).Rows.Single();
        Assert.Equal(["digits_cnn_b10", "200", "100–300"], row.Take(3));
        Assert.Equal(["20.0", "10.0–30.0", "200", "1 thread, oneDNN off", "10.00x", "≥ 10x met"], row.Skip(6));
    }

    [Fact]
    public void A_failed_round_is_the_result_not_hidden_by_the_median()
    {
        var failed = ThroughputResult.Failed("toy_mlp_b10", "cpu", "pytorch", "seed_workloads.py exited with 1: boom");
        var combined = ThroughputResult.Combine([Ok("toy_mlp_b10", "cpu", "pytorch", 10), failed, Ok("toy_mlp_b10", "cpu", "pytorch", 12)]);
        Assert.Equal("seed_workloads.py exited with 1: boom", combined.Error);
        Assert.Throws<ArgumentException>(() => ThroughputResult.Combine([Ok("toy_mlp_b10", "cpu", "pytorch", 10), Ok("toy_mlp_b10", "cpu", "genlab", 10)]));
        Assert.Throws<ArgumentException>(() => ThroughputResult.Combine([]));
    }

    [Theory]
    [InlineData("cpu", 2, "1 thread, oneDNN on|1 thread, oneDNN off|2 threads, oneDNN on|2 threads, oneDNN off")]
    [InlineData("cpu", 1, "1 thread, oneDNN on|1 thread, oneDNN off")]
    [InlineData("cuda", 16, "16 threads, oneDNN on")]
    public void The_peer_tries_one_thread_and_all_cores_with_onednn_on_and_off(string device, int cores, string expected) =>
        Assert.Equal(expected, string.Join("|", PeerConfig.Candidates(device, cores)));

    [Theory]
    [InlineData("lstm_adding_b32_t200", 1)]
    [InlineData("attention_dates_b32", 1)]
    [InlineData("mnist_cnn_b32", 2.5)]
    [InlineData("gan_digits_b16_d5", 10)]
    public void Targets_are_issue_16s_goals(string workload, double target) => Assert.Equal(target, ThroughputTable.Target(workload));

    [Fact]
    public void Markdown_has_one_line_per_workload_and_escapes_pipes()
    {
        var results = new[] { Ok("toy_mlp_b10", "cpu", "genlab", 100), ThroughputResult.Failed("score_toy_b16", "cpu", "genlab", "a | b") };
        var md = new ThroughputTable(results, ["cpu"], withPyTorch: false).ToMarkdown().TrimEnd().Split('\n');
        Assert.Equal(4, md.Length);
        Assert.StartsWith("| workload | GenLab cpu steps/s |", md[0]);
        Assert.Contains("a \\| b", md[3]);
    }

    [Fact]
    public void Chart_series_skip_implementations_without_numbers_and_leave_gaps()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "cpu", "genlab", 100), Ok("mnist_cnn_b32", "cpu", "genlab", 5),
            Ok("toy_mlp_b10", "cpu", "pytorch", 50), ThroughputResult.Failed("mnist_cnn_b32", "cpu", "pytorch", "x"),
            ThroughputResult.Failed("toy_mlp_b10", "cuda", "genlab", "CUDA not available"),
        };
        var (groups, series) = ThroughputChart.Data(results);
        Assert.Equal(["toy_mlp_b10", "mnist_cnn_b32"], groups);
        Assert.Equal(["GenLab cpu", "PyTorch cpu"], series.Select(s => s.Name));
        Assert.True(double.IsNaN(series[1].Values[1]));
    }
}
