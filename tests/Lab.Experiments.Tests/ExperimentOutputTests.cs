using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>What every experiment writes, checked on the shared quick run.</summary>
[Collection(QuickCollection.Name)]
public class ExperimentOutputTests(QuickRun run)
{
    private static readonly string[] Quality =
        ["classes_covered", "class_entropy", "mean_confidence", "frechet_distance", "frechet_real_vs_real"];

    public static TheoryData<string, string[]> RequiredMetrics => new()
    {
        { "toy", ["test_accuracy", "test_loss"] },
        { "digits", ["test_accuracy", "test_loss"] },
        { "adversarial", ["success_rate", "mean_l2", "mean_linf", "mean_steps"] },
        { "vae", ["final_kl_loss", "final_reconstruction_loss", .. Quality] },
        { "gan", ["final_d_loss", "final_g_loss", .. Quality] },
        { "wgan-gp", ["final_critic_loss", "final_w_estimate", "final_gradient_penalty", "final_grad_norm", "final_g_loss", .. Quality,
            .. Quality.Select(q => "gan_" + q)] },
        { "score", ["final_loss", "modes_covered", "within_3sigma"] },
        { "score-digits", ["final_loss", "largest_distance", .. Quality] },
        { "mnist-synthetic", ["test_accuracy", "test_loss", "mean_epoch_seconds"] },
        { "functional", ["test_loss", "test_diff_loss", "test_sign_loss", "test_sign_accuracy", "parameters"] },
        { "attention", ["test_exact_match", "test_char_accuracy", "baseline_char_accuracy", "exact_match_japanese", "char_accuracy_short", "parameters"] },
    };

    [Fact]
    public void AllRunsEveryExperimentKeepsGoingPastAFailureAndWritesTheGallery()
    {
        // mnist fails (no IDX files where --data points); everything else runs, and the exit code says so.
        Assert.Equal(1, run.All.Code);
        Assert.Contains("no-idx-files", run.All.Error);
        var readme = File.ReadAllText(Path.Combine(run.Root, "README.md"));
        foreach (var e in Program.Experiments)
        {
            Assert.Contains($"## {e.Name}", readme);
            if (e.Name != "mnist")
            {
                Assert.True(File.Exists(Path.Combine(run.Dir(e.Name), "metrics.json")), e.Name);
                Assert.Contains($"| [{e.Name}](#{e.Name}) | ok |", readme);
            }
        }
        Assert.Contains("| experiment | run | time |", readme);
        Assert.Contains("| [mnist](#mnist) | failed |", readme);
        Assert.False(Directory.Exists(run.Dir("mnist")));
        Assert.Contains("| test_accuracy |", readme);
        Assert.DoesNotContain(Directory.EnumerateDirectories(run.Root), d => d.Contains(".staging-") || d.Contains(".old-"));
        // Everything `all` wrote is marked as GenLab's, so the next `all` may replace it.
        Assert.StartsWith(Lab.Experiments.All.Gallery.Marker + "\n", readme);
        foreach (var e in Program.Experiments.Where(e => e.Name != "mnist"))
            Assert.Equal("complete", Lab.Core.IO.RunManifest.Read(run.Dir(e.Name))?.State);
        Assert.Empty(Lab.Core.IO.RunManifest.Foreign(Path.Combine(run.Root, "cache")));
    }

    [Theory]
    [MemberData(nameof(RequiredMetrics))]
    public void MetricsHoldFiniteNumbers(string folder, string[] keys)
    {
        var metrics = Files.Metrics(run.Dir(folder));
        Files.AssertFinite(metrics, keys);
        Assert.True(metrics["quick"].GetBoolean());
        Assert.Equal("cpu", metrics["device"].GetString());
    }

    [Theory]
    [InlineData("vae")]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    [InlineData("score-digits")]
    public void DigitSamplesAreAThousandImagesInTheUnitInterval(string experiment)
    {
        var (header, rows) = Files.Csv(Path.Combine(run.Dir(experiment), "samples.csv"));
        Assert.Equal(Enumerable.Range(0, 64).Select(i => $"p{i}"), header);
        Assert.Equal(1000, rows.Length);
        Assert.All(rows, r => Assert.All(r, v => Assert.InRange(v, 0.0, 1.0)));
        var metrics = Files.Metrics(run.Dir(experiment));
        Assert.InRange(metrics["classes_covered"].GetInt32(), 0, 10);
        Assert.Equal(1000, metrics["class_counts"].EnumerateArray().Sum(c => c.GetInt32()));
    }

    [Fact]
    public void ScoreWritesLangevinSamplesAndTheData()
    {
        var (header, rows) = Files.Csv(Path.Combine(run.Dir("score"), "samples.csv"));
        Assert.Equal(["x0", "x1"], header);
        Assert.Equal(1000, rows.Length); // quick mode's chains
        Assert.All(rows, r => Assert.All(r, v => Assert.True(double.IsFinite(v))));
        var (dataHeader, data) = Files.Csv(Path.Combine(run.Dir("score"), "data.csv"));
        Assert.Equal(["x0", "x1", "label"], dataHeader);
        Assert.Equal(500, data.Length);
        Assert.Equal([0.0, 1, 2, 3, 4], data.Select(r => r[2]).Distinct().Order());
        var metrics = Files.Metrics(run.Dir("score"));
        Assert.InRange(metrics["modes_covered"].GetInt32(), 0, 5);
        Assert.InRange(metrics["within_3sigma"].GetDouble(), 0, 1);
    }

    [Theory]
    [InlineData("toy", "accuracy")]
    [InlineData("digits", "My_accuracy")]
    [InlineData("vae", "kl_loss")]
    [InlineData("gan", "d_loss")]
    [InlineData("wgan-gp", "w_estimate")]
    [InlineData("score", "loss")]
    [InlineData("score-digits", "loss")]
    [InlineData("mnist-synthetic", "accuracy")]
    [InlineData("attention", "val_char_accuracy")]
    public void HistoryAndLogsAreWritten(string folder, string column)
    {
        var dir = run.Dir(folder);
        var (header, rows) = Files.Csv(Path.Combine(dir, "history.csv"));
        Assert.Equal("epoch", header[0]);
        Assert.Contains(column, header);
        Assert.Single(rows); // one quick epoch
        Assert.True(File.Exists(Path.Combine(dir, "run.log.jsonl")));
        Assert.True(File.Exists(Path.Combine(dir, "training_log.csv")));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories));
    }

    public static TheoryData<string, string[], string[]> Figures => new()
    {
        { "toy", ["data", "decision_regions", "history"], [] },
        { "digits", ["confusion_matrix", "held_out_probabilities", "history"], [] },
        { "adversarial", ["budget_curve"], [] },
        { "vae", ["samples", "reconstructions", "temperature_sweep", "losses"], [] },
        { "gan", ["samples", "losses", "d_steps_comparison", "d_steps_losses"], [] },
        { "wgan-gp", ["samples", "losses", "penalty", "gan_comparison"], [] },
        { "score", ["data", "langevin_final", "loss"], ["langevin"] },
        { "score-digits", ["samples", "annealing", "loss"], ["annealing"] },
        { "mnist-synthetic", ["history", "test_predictions"], [] },
        { "attention", ["history", "accuracy_per_format", "attention_maps"], [] },
    };

    /// <summary>Every figure as PNG and SVG, every animation as GIF (GenLab's own encoder: no --video).</summary>
    [Theory]
    [MemberData(nameof(Figures))]
    public void FiguresAreWritten(string folder, string[] figures, string[] animations)
    {
        var dir = run.Dir(folder);
        foreach (var f in figures)
        {
            Files.AssertSvg(Path.Combine(dir, f + ".svg"));
            Files.AssertPng(Path.Combine(dir, f + ".png"));
        }
        foreach (var a in animations) Files.AssertGif(Path.Combine(dir, a + ".gif"));
        Assert.Contains($"![", File.ReadAllText(Path.Combine(run.Root, "README.md")));
    }

    [Fact]
    public void WganGpLogsItsCriticAndComparesWithTheSeedGanInTheGallery()
    {
        var dir = run.Dir("wgan-gp");
        var (header, rows) = Files.Csv(Path.Combine(dir, "history.csv"));
        foreach (var column in new[] { "critic_loss", "w_estimate", "gradient_penalty", "grad_norm", "g_loss" }) Assert.Contains(column, header);
        Assert.All(rows, r => Assert.All(r, v => Assert.True(double.IsFinite(v))));
        Assert.Single(Files.Csv(Path.Combine(dir, "history_gan.csv")).Rows);   // the seed GAN, trained beside it
        var metrics = Files.Metrics(dir);
        Assert.Equal(10, metrics["lambda"].GetDouble());
        Assert.Equal(5, metrics["critic_steps"].GetInt32());
        Assert.Equal(10, metrics["critic_updates"].GetInt32());   // 160 digits in batches of 16
        Assert.Equal(2, metrics["generator_updates"].GetInt32());
        var sentence = metrics["vs_gan"].GetString()!;
        Assert.Contains($"classes covered {metrics["classes_covered"].GetInt32()} vs {metrics["gan_classes_covered"].GetInt32()}", sentence);
        Assert.StartsWith($"WGAN-GP after {metrics["generator_updates"].GetInt32()} generator updates vs the seed GAN after 10,", sentence);   // 160 digits, batch 16, 1 epoch
        Assert.Contains(sentence, File.ReadAllText(Path.Combine(run.Root, "README.md")));
    }

    [Fact]
    public void MnistSyntheticReportsItsTiming()
    {
        Assert.True(run.Synthetic.Code == 0, run.Synthetic.Error);
        var metrics = Files.Metrics(run.Dir("mnist-synthetic"));
        Assert.True(metrics["synthetic"].GetBoolean());
        Assert.Equal(Lab.Experiments.Experiments.MnistExperiment.QuickTrain, metrics["train_images"].GetInt32());
        Assert.Single(metrics["epoch_seconds"].EnumerateArray());
    }
}
