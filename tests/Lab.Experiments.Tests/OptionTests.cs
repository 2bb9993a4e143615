using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>The experiments' own options, each in quick mode.</summary>
public class OptionTests
{
    [Theory]
    [InlineData("toy", "--loop", "explicit")]
    [InlineData("toy", "--task", "regression")]
    [InlineData("digits", "--style", "keras")]
    [InlineData("score", "--loss", "sliced")]
    [InlineData("score-digits", "--net", "mlp")]
    public void VariantsRun(string experiment, string option, string value)
    {
        using var folder = new TempFolder();
        Cli.Ok(experiment, option, value, "--quick", "--out", folder["out"]);
        Assert.True(File.Exists(folder["out/metrics.json"]));
    }

    [Fact]
    public void GanRatioOptionsAreRecorded()
    {
        using var folder = new TempFolder();
        Cli.Ok("gan", "--d-steps", "2", "--compare-d-steps", "0", "--quick", "--out", folder["out"]);
        var metrics = Files.Metrics(folder["out"]);
        Assert.Equal(2, metrics["d_steps"].GetInt32());
        Assert.DoesNotContain(metrics.Keys, k => k.StartsWith("compare_", StringComparison.Ordinal));
    }

    [Fact]
    public void VaeTemperatureAndSweep()
    {
        using var folder = new TempFolder();
        Cli.Ok("vae", "--temperature", "0.1", "--sweep", "0.1,1", "--epochs", "1", "--quick", "--out", folder["out"]);
        var metrics = Files.Metrics(folder["out"]);
        Assert.Equal(0.1, metrics["temperature"].GetDouble(), 5);
        Files.AssertFinite(metrics, "sweep_t0.1_classes_covered", "sweep_t1_classes_covered");
        Assert.DoesNotContain("sweep_t0.01_classes_covered", metrics.Keys);
    }

    [Fact]
    public void AllSkipsWhatItIsToldTo()
    {
        using var folder = new TempFolder();
        var others = Program.Experiments.Select(e => e.Name).Where(n => n != "toy");
        var r = Cli.Ok("all", "--quick", "--out", folder.Path, "--skip", string.Join(",", others));
        Assert.Contains("mnist skipped (--skip)", r.Output);
        var readme = File.ReadAllText(folder["README.md"]);
        Assert.Contains("| [toy](#toy) | ok |", readme);
        Assert.Contains("| [gan](#gan) | skipped |", readme);
        Assert.Contains("![decision regions](toy/decision_regions.png)", readme);
        Assert.False(Directory.Exists(folder["gan"]));
    }
}
