namespace Lab.Bench.Tests;

public class ThroughputOptionsTests
{
    [Fact]
    public void Defaults_are_all_workloads_on_the_cpu_saved()
    {
        var o = ThroughputOptions.Parse([]);
        Assert.Equal(["cpu"], o.Devices);
        Assert.Equal(Workload.All.Select(w => w.Name), o.Workloads.Select(w => w.Name));
        Assert.True(o.Save);
        Assert.Equal(3, o.Rounds);
        Assert.False(o.Json || o.ComparePyTorch || o.Profile);
    }

    [Fact]
    public void Parses_every_option()
    {
        var o = ThroughputOptions.Parse(["--device", "all", "--workloads", "mnist_cnn_b32, toy_mlp_b10", "--seconds", "2.5",
            "--warmup", "0.5", "--rounds", "5", "--batch", "64", "--json", "--compare-pytorch", "--profile", "--no-save"]);
        Assert.Equal(["cpu", "cuda"], o.Devices);
        Assert.Equal(["mnist_cnn_b32", "toy_mlp_b10"], o.Workloads.Select(w => w.Name));
        Assert.Equal(2.5, o.Seconds);
        Assert.Equal(0.5, o.WarmupSeconds);
        Assert.Equal(5, o.Rounds);
        Assert.Equal(64, o.BatchFor(Workload.Find("toy_mlp_b10")));
        Assert.True(o.Json && o.ComparePyTorch && o.Profile && !o.Save);
    }

    [Theory]
    [InlineData(new[] { "--compare-pytorch" }, "pytorch")]
    [InlineData(new[] { "--compare", "torchsharp" }, "torchsharp")]
    [InlineData(new[] { "--compare", "TorchSharp,pytorch" }, "pytorch,torchsharp")]
    [InlineData(new[] { "--compare-pytorch", "--compare", "torchsharp" }, "pytorch,torchsharp")]
    [InlineData(new string[0], "")]
    public void Compare_names_the_peers_in_the_tables_order(string[] args, string peers)
    {
        var o = ThroughputOptions.Parse(args);
        Assert.Equal(peers, string.Join(",", o.Peers));
        Assert.Equal(peers.Contains("pytorch"), o.ComparePyTorch);
        Assert.Equal(peers.Contains("torchsharp"), o.CompareTorchSharp);
    }

    [Fact]
    public void The_seed_batch_is_used_unless_overridden()
    {
        var o = ThroughputOptions.Parse([]);
        Assert.Equal(10, o.BatchFor(Workload.Find("digits_cnn_b10")));
        Assert.Equal(32, o.BatchFor(Workload.Find("mnist_cnn_b32")));
    }

    [Theory]
    [InlineData("--device", "tpu", "cpu, cuda or all")]
    [InlineData("--workloads", "resnet50", "toy_mlp_b10")]
    [InlineData("--seconds", "-1", "positive number")]
    [InlineData("--seconds", "abc", "positive number")]
    [InlineData("--rounds", "0", "--rounds expects an integer from 1 to 50")]
    [InlineData("--rounds", "2.5", "--rounds expects an integer from 1 to 50")]
    [InlineData("--batch", "0", "positive integer")]
    [InlineData("--batch", "2000000000", "up to 4096")]
    [InlineData("--seconds", "1e308", "from 0.01 to 3600")]
    [InlineData("--warmup", "1e-300", "from 0.01 to 3600")]
    [InlineData("--seconds", "NaN", "positive number")]
    [InlineData("--compare", "jax", "--compare expects pytorch or torchsharp (comma-separated), got 'jax'")]
    [InlineData("--compare", ",", "--compare lists no peer")]
    public void Bad_values_say_what_was_expected(string option, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ThroughputOptions.Parse([option, value]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_values_and_unknown_options_are_errors_with_usage()
    {
        Assert.Contains("needs a value", Assert.Throws<ArgumentException>(() => ThroughputOptions.Parse(["--seconds"])).Message);
        Assert.Contains("needs a value", Assert.Throws<ArgumentException>(() => ThroughputOptions.Parse(["--device", "--json"])).Message);
        Assert.Contains("usage:", Assert.Throws<ArgumentException>(() => ThroughputOptions.Parse(["--fast"])).Message);
    }
}
