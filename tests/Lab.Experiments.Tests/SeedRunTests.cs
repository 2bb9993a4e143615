using System.Text.Json;
using Lab.Experiments.MultiSeed;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>`--seeds` and `--repeat`: one complete run per seed under &lt;out&gt;/seed-N, the spread over seeds at &lt;out&gt;.</summary>
public class SeedRunTests
{
    [Theory]
    [InlineData("toy: '--seeds 1,x': 'x' is not a seed", "toy", "--seeds", "1,x")]
    [InlineData("toy: option '--seeds' needs a value", "toy", "--seeds")]
    [InlineData("'--repeat 2' from --seed 2147483647 goes past the largest seed", "toy", "--repeat", "2", "--seed", "2147483647")]
    [InlineData("all: give --seeds or --repeat, not both", "all", "--seeds", "0,1", "--repeat", "2")]
    [InlineData("'--seeds 0,-1': '-1' is not a seed", "toy", "--seeds", "0,-1")]
    [InlineData("'--seeds 0,,1': '' is not a seed", "toy", "--seeds", "0,,1")]
    [InlineData("seed 2 is given twice", "toy", "--seeds", "2,2")]
    [InlineData("'--repeat 0' must be between 1 and 1000", "toy", "--repeat", "0")]
    [InlineData("give --seeds or --repeat, not both", "toy", "--seeds", "0,1", "--repeat", "2")]
    [InlineData("give --seed or --seeds, not both", "toy", "--seed", "3", "--seeds", "0,1")]
    [InlineData("all: '--seeds 1,x': 'x' is not a seed", "all", "--seeds", "1,x")]
    [InlineData("all: '--repeat 0' must be between 1 and 1000", "all", "--repeat", "0")]
    public void BadSeedsAreOneLineAndExitTwoBeforeAnyWork(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        var r = Cli.Run([.. args, "--quick", "--out", folder["out"]]);
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(folder["out"]));
    }

    [Fact]
    public void EachSeedIsACompleteRunAndTheSummaryHoldsTheirSpread()
    {
        using var folder = new TempFolder();
        var r = Cli.Ok("toy", "--quick", "--seeds", "0,2,5", "--out", folder["out"]);

        var perSeed = new[] { 0, 2, 5 }.ToDictionary(s => s, s => Files.Metrics(folder[$"out/seed-{s}"]));
        foreach (var (seed, m) in perSeed)
        {
            Assert.Equal(seed, m["seed"].GetInt32());
            Assert.True(File.Exists(folder[$"out/seed-{seed}/history.csv"]));
            Files.AssertSvg(folder[$"out/seed-{seed}/decision_regions.svg"]);
            Assert.Equal("complete", Lab.Core.IO.RunManifest.Read(folder[$"out/seed-{seed}"])?.State);
            // What repeats this seed alone (without the multi-seed options and the parent's --out).
            Assert.Equal($"--quick --seed {seed}", Lab.Core.IO.RunManifest.Read(folder[$"out/seed-{seed}"])?.Options);
        }
        // A seed's folder holds what a single run of that seed writes.
        Cli.Ok("toy", "--quick", "--seed", "2", "--out", folder["single"]);
        Assert.Equal(Files.Metrics(folder["single"])["test_accuracy"].GetDouble(), perSeed[2]["test_accuracy"].GetDouble());

        var summary = Files.Metrics(folder["out"]);
        Assert.Equal([0, 2, 5], summary["seeds"].EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal(["seed-0", "seed-2", "seed-5"], summary["seed_folders"].EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("toy", summary["experiment"].GetString());
        Assert.True(summary["quick"].GetBoolean());
        var values = perSeed.Values.Select(m => m["test_accuracy"].GetDouble()).ToArray();
        var accuracy = summary["test_accuracy"];
        double mean = (values[0] + values[1] + values[2]) / 3;
        double std = Math.Sqrt(((values[0] - mean) * (values[0] - mean) + (values[1] - mean) * (values[1] - mean) + (values[2] - mean) * (values[2] - mean)) / 2);
        Assert.Equal(mean, accuracy.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(std, accuracy.GetProperty("std").GetDouble(), 12);
        Assert.Equal(values.Min(), accuracy.GetProperty("min").GetDouble());
        Assert.Equal(values.Max(), accuracy.GetProperty("max").GetDouble());
        Assert.Equal(values, accuracy.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
        Assert.False(summary.ContainsKey("seed"));

        Files.AssertSvg(folder["out/spread.svg"]);
        Files.AssertPng(folder["out/spread.png"]);
        // The panels of the headline metric: its mean ± sd and each seed's value, as text in the SVG.
        var svg = File.ReadAllText(folder["out/spread.svg"]);
        foreach (var text in new[] { "toy over 3 seeds (0, 2, 5)", "test accuracy", "mean ± sd", "seeds" }) Assert.Contains(text, svg);
        Assert.Contains("toy over 3 seed(s) (0, 2, 5)", r.Output);
        Assert.Contains($"test_accuracy", r.Output);
        Assert.Equal("complete", Lab.Core.IO.RunManifest.Read(folder["out"])?.State);
        Assert.Empty(Lab.Core.IO.RunManifest.Foreign(folder["out"]));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(folder.Path), e => e.Contains(".staging-"));

        // Run again: GenLab's own multi-seed folder is replaced, as a single run's is.
        Cli.Ok("toy", "--quick", "--repeat", "2", "--seed", "3", "--out", folder["out"]);
        Assert.Equal([3, 4], Files.Metrics(folder["out"])["seeds"].EnumerateArray().Select(s => s.GetInt32()));
        Assert.False(Directory.Exists(folder["out/seed-0"]));
        Assert.True(Directory.Exists(folder["out/seed-4"]));
    }

    [Fact]
    public void AFailingSeedKeepsNoneAndLeavesEarlierResultsUntouched()
    {
        using var folder = new TempFolder();
        Cli.Ok("score", "--quick", "--seeds", "0,1", "--out", folder["out"]);
        var before = Files.Snapshot(folder["out"]);
        // A learning rate that makes training diverge fails the first seed.
        var r = Cli.Run("score", "--quick", "--seeds", "2,3", "--lr", "1e30", "--out", folder["out"]);
        Assert.Equal(1, r.Code);
        Assert.Contains("score failed: ", r.Error);
        Assert.Contains("that was seed 2, so no seed's results were kept", r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(before.Keys.Order(), Files.Snapshot(folder["out"]).Keys.Order());
        Assert.True(File.Exists(folder["out"] + ".failed-run.log.jsonl"));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(folder.Path), e => e.Contains(".staging-"));
    }

    [Fact]
    public void AForeignFolderIsRefusedBeforeAnySeedRuns()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder["out"]);
        File.WriteAllText(folder["out/mine.txt"], "a user's file");
        var r = Cli.Run("toy", "--quick", "--seeds", "0,1", "--out", folder["out"]);
        Assert.Equal(2, r.Code);
        Assert.Contains("refusing to replace", r.Error);
        Assert.DoesNotContain("seed 0", r.Output);
        Assert.Equal(["mine.txt"], Directory.EnumerateFileSystemEntries(folder["out"]).Select(Path.GetFileName));
    }

    [Fact]
    public void SummaryKeepsNumbersAsSpreadsAndAgreedTextAsIs()
    {
        static Dictionary<string, JsonElement> M(string json) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;
        var summary = SeedSummary.Summarise(
        [
            (0, M("""{"seed": 0, "x": 1, "nan": "NaN", "kind": "exact", "mode": "a", "counts": [1, 2], "quick": true, "only": 3, "judge_split_seed": 0}""")),
            (1, M("""{"seed": 1, "x": 2, "nan": 1.5, "kind": "exact", "mode": "b", "counts": [2, 1], "quick": true, "judge_split_seed": 1}""")),
            (4, M("""{"seed": 4, "x": 4, "nan": 2, "kind": "exact", "mode": "b", "counts": [0, 3], "quick": true, "judge_split_seed": 4}""")),
        ]);
        var x = (Spread)summary["x"];
        Assert.Equal(7.0 / 3, x.Mean, 12);
        Assert.Equal(Math.Sqrt(7.0 / 3), x.Std, 12);   // ((4/3)² + (1/3)² + (5/3)²) / 2 = 7/3
        Assert.Equal((1.0, 4.0), (x.Min, x.Max));
        Assert.True(double.IsNaN(((Spread)summary["nan"]).Mean));   // a seed's NaN is not averaged away
        Assert.Equal("exact", ((JsonElement)summary["kind"]).GetString());
        Assert.False(summary.ContainsKey("mode"));     // the seeds disagree: only their folders say
        Assert.False(summary.ContainsKey("counts"));
        Assert.False(summary.ContainsKey("only"));     // not a number in every seed
        Assert.False(summary.ContainsKey("judge_split_seed"));
        Assert.Equal([0UL, 1, 4], (ulong[])summary["seeds"]);
        Assert.True(double.IsNaN(Spread.Of([3]).Std));  // one seed: no spread
    }

    [Fact]
    public void AllRunsEachExperimentOverTheSeedsAndTheGalleryShowsTheSpread()
    {
        using var folder = new TempFolder();
        var skip = string.Join(",", Program.Experiments.Select(e => e.Name).Where(n => n is not ("toy" or "vae")));
        var r = Cli.Ok("all", "--quick", "--seeds", "0,1", "--skip", skip, "--out", folder.Path);
        foreach (var e in new[] { "toy", "vae" })
        {
            Assert.Equal([0, 1], Files.Metrics(folder[e])["seeds"].EnumerateArray().Select(s => s.GetInt32()));
            Assert.True(File.Exists(folder[$"{e}/seed-1/metrics.json"]));
        }
        // The judge of each seed is trained on that seed's split and cached beside the experiments, not inside them.
        Assert.Equal(0, Files.Metrics(folder["vae/seed-0"])["judge_split_seed"].GetInt32());
        Assert.Equal(1, Files.Metrics(folder["vae/seed-1"])["judge_split_seed"].GetInt32());
        Assert.True(File.Exists(folder["cache/digits-classifier-e10-n400-split1.ckpt"]));
        var readme = File.ReadAllText(folder["README.md"]);
        Assert.Contains($"| [toy](#toy) | ok |", readme);
        Assert.Contains(" ± ", readme.Split('\n').Single(l => l.StartsWith("| [toy](#toy)", StringComparison.Ordinal)));
        Assert.Contains("[seed-0](toy/seed-0)", readme);
        Assert.Contains("(toy/spread.", readme);
        Assert.Contains("(toy/seed-0/decision_regions.", readme);
        Assert.Contains("| frechet real vs real |", readme.Split('\n').First(l => l.StartsWith("| experiment", StringComparison.Ordinal)));
        Assert.Contains("vae over 2 seed(s) (0, 1)", r.Output);
    }
}
