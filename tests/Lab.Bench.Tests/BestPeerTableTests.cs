namespace Lab.Bench.Tests;

/// <summary>The table with PyTorch and TorchSharp beside GenLab: each peer's columns and the ratio against the faster one.</summary>
public class BestPeerTableTests
{
    private static ThroughputResult Ok(string workload, string impl, double stepsPerS, string? config = null) => new()
    {
        Workload = workload, Device = "cpu", Impl = impl, StepsPerS = stepsPerS, ImagesPerS = stepsPerS * 10, MsPerStep = 1000 / stepsPerS,
        AllocatedBytesPerStep = impl == "genlab" ? 0 : null, Config = config,
    };

    private const string TorchSharpConfig = "TorchSharp 0.107.0 (libtorch 2.10.0), 1 threads, OMP_NUM_THREADS=1, OPENBLAS_CORETYPE=unset, " +
        "mkldnn=off (asked on; oneDNN's convolutions were wrong here: conv 1->4 3x3 on 8x8 input grad rel. error 0.74; ATen's pass the float64 check), Adam (TorchSharp's)";

    [Fact]
    public void The_ratio_is_against_the_faster_peer_and_names_it()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "genlab", 20000), Ok("toy_mlp_b10", "pytorch", 2000), Ok("toy_mlp_b10", "torchsharp", 4000),
            Ok("digits_cnn_b10", "genlab", 3000), Ok("digits_cnn_b10", "pytorch", 600), Ok("digits_cnn_b10", "torchsharp", 250, TorchSharpConfig),
        };
        var table = new ThroughputTable(results, ["cpu"], ["pytorch", "torchsharp"]);
        Assert.Equal(["workload", "GenLab cpu steps/s", "min–max", "images/s", "ms/step", "alloc B/step",
            "PyTorch cpu steps/s", "min–max", "images/s", "PyTorch config", "TorchSharp cpu steps/s", "min–max", "TorchSharp config",
            "GenLab ÷ best peer", "target"], table.Header);
        Assert.Equal(["4,000", "", "", "5.00x (TorchSharp)", "≥ 10x missed"], table.Rows[0].Skip(10));
        Assert.Equal(["250", "", "1 thread, oneDNN off, oneDNN's gradients wrong here", "5.00x (PyTorch)", "≥ 10x missed"], table.Rows[1].Skip(10));
    }

    [Fact]
    public void A_peer_without_the_workload_leaves_the_ratio_to_the_other()
    {
        var results = new[]
        {
            Ok("lstm_adding_b32_t200", "genlab", 30), Ok("lstm_adding_b32_t200", "pytorch", 20),
            ThroughputResult.Failed("lstm_adding_b32_t200", "cpu", "torchsharp", "not in the TorchSharp peer"),
        };
        var row = new ThroughputTable(results, ["cpu"], ["pytorch", "torchsharp"]).Rows.Single();
        Assert.Equal(["not in the TorchSharp peer", "", "", "1.50x (PyTorch)", "≥ 1x met"], row.Skip(10));
    }

    [Fact]
    public void No_peer_ran_no_ratio()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "genlab", 100),
            ThroughputResult.Failed("toy_mlp_b10", "cpu", "torchsharp", "TorchSharp peer unavailable: no dotnet"),
        };
        var table = new ThroughputTable(results, ["cpu"], ["torchsharp"]);
        Assert.Equal("GenLab ÷ TorchSharp", table.Header[^2]);
        Assert.Equal(["TorchSharp peer unavailable: no dotnet", "", "", "", "≥ 10x"], table.Rows.Single().Skip(6));
        Assert.Null(ThroughputTable.Best([results[1], null]));
    }

    [Fact]
    public void The_pytorch_only_table_is_as_before()
    {
        var results = new[] { Ok("toy_mlp_b10", "genlab", 20000), Ok("toy_mlp_b10", "pytorch", 3500) };
        Assert.Equal(new ThroughputTable(results, ["cpu"], withPyTorch: true).Rows, new ThroughputTable(results, ["cpu"], ["pytorch"]).Rows);
        Assert.Equal("GenLab ÷ PyTorch", new ThroughputTable(results, ["cpu"], ["pytorch"]).Header[^2]);
    }

    [Fact]
    public void The_chart_has_a_torchsharp_series()
    {
        var results = new[] { Ok("toy_mlp_b10", "genlab", 100), Ok("toy_mlp_b10", "torchsharp", 40) };
        Assert.Equal(["GenLab cpu", "TorchSharp cpu"], ThroughputChart.Data(results).Series.Select(s => s.Name));
    }
}
