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
        Assert.Equal(9, table.Header.Count);
        Assert.Equal(["toy_mlp_b10", "20,000", "200,000", "0.050", "2.0 KiB", "3,500", "35,000", "5.71x", "≥ 5x met"], table.Rows[0]);
        Assert.Equal("1.14x", table.Rows[1][7]);
        Assert.Equal("≥ 1.5x missed", table.Rows[1][8]);
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
        Assert.Equal("PyTorch not importable", row[5]);
        Assert.Equal("≥ 5x", row[8]);
        Assert.Equal("CUDA not available: no driver", row[9]);
        Assert.Equal("CUDA not available: no GPU", row[13]);
        Assert.Equal("", row[16]);
        Assert.Null(ThroughputTable.Ratio(results[0], results[1]));
    }

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
