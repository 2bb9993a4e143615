using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>The command line's contract: help, clear messages and exit code 2 for bad input, failures that keep old results.</summary>
public class CommandLineTests
{
    [Fact]
    public void HelpListsEveryExperiment()
    {
        var r = Cli.Run("--help");
        Assert.Equal(0, r.Code);
        foreach (var name in new[] { "toy", "digits", "adversarial", "vae", "gan", "wgan-gp", "score", "score-digits", "mnist", "all" })
            Assert.Contains($"  {name} ", r.Output);
        Assert.Equal(0, Cli.Run("gan", "--help").Code);
        Assert.Contains("--d-steps", Cli.Run("gan", "--help").Output);
        Assert.Contains("--data", Cli.Run("all", "--help").Output);
        Assert.Contains("--critic-steps", Cli.Run("wgan-gp", "--help").Output);
        Assert.Contains("--loss <gan|wgan-gp>", Cli.Run("gan", "--help").Output);
        // Every option's default is written once, in its definition, and shown by --help.
        Assert.Contains("--d-steps <N>", Cli.Run("gan", "--help").Output);
        Assert.Matches(@"--d-steps <N> +discriminator updates per generator update \[default: 5\]", Cli.Run("gan", "--help").Output);
        Assert.Matches(@"--samples <N> +Langevin chains \(1000 with --quick\) \[default: 5000\]", Cli.Run("score", "--help").Output);
        Assert.Contains("[default: cpu]", Cli.Run("toy", "--help").Output);
        Assert.Equal(2, Cli.Run().Code);   // no experiment: the help, and the usage error's code
        Assert.Contains("--critic-steps", Cli.Run("gan", "--loss", "wgan-gp", "--help").Output);
    }

    [Theory]
    [InlineData("--loss", "wgan-gp")]
    [InlineData("--loss=wgan-gp")]
    public void GanWithTheWganGpLossRunsTheWganGpExperiment(params string[] loss)
    {
        using var folder = new TempFolder();
        Cli.Ok(["gan", "--quick", .. loss, "--critic-steps", "2", "--compare", "none", "--out", folder["out"]]);
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder["out"], "metrics.json"))).RootElement;
        Assert.Equal("wgan-gp", metrics.GetProperty("experiment").GetString());
        Assert.Equal(2, metrics.GetProperty("critic_steps").GetInt32());
    }

    [Theory]
    [InlineData("Unknown experiment 'nope'", "nope")]
    [InlineData("unknown option '--bogus'", "toy", "--bogus", "1")]
    [InlineData("'--epochs many' is not an integer", "vae", "--epochs", "many")]
    [InlineData("'--seed -1' must be between 0 and", "toy", "--seed", "-1")]
    [InlineData("'--device gpu' is not one of cpu, cuda", "gan", "--device", "gpu")]
    [InlineData("'--d-steps 0' must be between 1 and 100", "gan", "--d-steps", "0")]
    [InlineData("'--critic-steps 0' must be between 1 and 100", "wgan-gp", "--critic-steps", "0")]
    [InlineData("'--lambda -1' must be between 0 and", "wgan-gp", "--lambda", "-1")]
    [InlineData("'--loss exactly' is not one of exact, sliced", "score", "--loss", "exactly")]
    [InlineData("is not a number", "vae", "--sweep", "0.1,warm")]
    [InlineData("option '--levels' needs a value", "score-digits", "--levels")]
    [InlineData("--synthetic", "mnist", "--data", "/nonexistent/idx")]
    [InlineData("unknown option '--bogus'", "all", "--bogus")]
    [InlineData("'tyo' is not an experiment", "all", "--skip", "toy,tyo")]
    [InlineData("'--epochs 0' must be between 1 and 100000", "vae", "--epochs", "0")]
    [InlineData("'--epochs 0' must be between 1 and 100000", "adversarial", "--epochs", "0")]
    [InlineData("'--epochs 0' must be between 1 and 100000", "all", "--epochs", "0")]
    [InlineData("--loop explicit trains the classifier", "toy", "--task", "regression", "--loop", "explicit")]
    [InlineData("--epochs trains the digits CNN and --checkpoint loads one", "adversarial", "--checkpoint", "x.ckpt", "--epochs", "2")]
    [InlineData("--lr shapes training, which --checkpoint skips", "score-digits", "--checkpoint", "x.ckpt", "--lr", "0.1")]
    [InlineData("'--samples 2000000000' must be between 1 and 1000000", "score", "--samples", "2000000000")]
    [InlineData("'--hidden 100000' must be between 1 and 16384", "score-digits", "--hidden", "100000")]
    [InlineData("'--hidden 2000' must be between 1 and 1024 for the conv net", "score-digits", "--hidden", "2000")]
    [InlineData("option '--levels' needs a value", "score-digits", "--levels", "--quick")]
    [InlineData("unexpected argument 'extra'", "toy", "extra")]
    [InlineData("unknown option '--bogus'", "toy", "--bogus=1")]
    [InlineData("'--sigma-min 0.5' must be at most the largest noise level 0.1", "score-digits", "--sigma-max", "0.1", "--sigma-min", "0.5")]
    public void BadCommandLinesExitWithCodeTwoAndSayWhy(string message, params string[] args)
    {
        using var folder = new TempFolder();
        var r = Cli.Run([.. args, .. args[0] == "nope" ? Array.Empty<string>() : ["--quick", "--out", folder["out"]]]);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path)); // no results, no staging folder
    }

    [Fact]
    public void AFailedRunLeavesEarlierResultsUntouched()
    {
        using var folder = new TempFolder();
        var dir = folder["score-digits"];
        Cli.Ok("score-digits", "--quick", "--out", dir);
        var before = Files.Snapshot(dir);

        // Fails inside the experiment (a missing checkpoint), after its staging folder was created.
        var r = Cli.Run("score-digits", "--quick", "--out", dir, "--checkpoint", folder["missing.ckpt"]);
        Assert.Equal(1, r.Code);
        Assert.Contains("left untouched", r.Error);

        var after = Files.Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
        Assert.Equal([dir], Directory.EnumerateDirectories(folder.Path).Where(d => !d.EndsWith("cache", StringComparison.Ordinal)));
    }

    [Fact]
    public void GanJudgesASamplesCsvWithoutTraining()
    {
        using var folder = new TempFolder();
        var (trained, judged) = (folder["gan"], folder["judged"]);
        Cli.Ok("gan", "--quick", "--compare-d-steps", "0", "--out", trained);
        Cli.Ok("gan", "--quick", "--out", judged, "--judge-samples", Path.Combine(trained, "samples.csv"));
        double Frechet(string dir) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))
            .RootElement.GetProperty("frechet_distance").GetDouble();
        // The same samples (rounded to 5 decimals in the CSV), the same judge and held-out digits: the same distance.
        Assert.Equal(Frechet(trained), Frechet(judged), 0.01 * Frechet(trained));
        Assert.False(File.Exists(Path.Combine(judged, "history.csv")));
        Assert.NotEqual(0, Cli.Run("gan", "--quick", "--out", folder["bad"], "--judge-samples", folder["missing.csv"]).Code);

        // Without --out it would replace results/gan with judged metrics alone: refused, nothing written there.
        var r = ChildProcess.Run(folder.Path, "gan", "--quick", "--judge-samples", Path.Combine(trained, "samples.csv"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--judge-samples needs --out DIR", r.Error);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "results", "gan")));
    }
}
