using Lab.Experiments.Experiments;
using Lab.Models;
using SkiaSharp;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>The sequence experiment (adding problem), checked on the shared `all --quick` run and on small runs of its own.</summary>
[Collection(QuickCollection.Name)]
public class SequenceExperimentTests(QuickRun run)
{
    private static readonly int[] QuickLengths = [10, 20];

    [Fact]
    public void QuickRunWritesMetricsForEveryModelAndLength()
    {
        var metrics = Files.Metrics(run.Dir("sequence"));
        Files.AssertFinite(metrics, "baseline_mse", "solved_below", "steps");
        Assert.Equal(1.0 / 6, metrics["baseline_mse"].GetDouble(), 6);
        Assert.Equal(QuickLengths, metrics["lengths"].EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(256, metrics["steps"].GetInt32());   // one quick epoch of 8192 sequences in batches of 32
        long lstm = metrics["lstm_parameters"].GetInt64();
        foreach (var kind in AddingModels.Names)
        {
            // Comparable sizes: every model within 10% of the LSTM's parameter count.
            Assert.InRange(metrics[$"{kind}_parameters"].GetInt64(), lstm * 0.9, lstm * 1.1);
            foreach (var t in QuickLengths)
            {
                Files.AssertFinite(metrics, $"{kind}_t{t}_test_mse");
                Assert.True(metrics.ContainsKey($"{kind}_t{t}_solved"));
            }
        }
    }

    /// <summary>
    /// Floors that a broken recurrent gradient crosses. Measured in the quick run (256 steps): at T = 10 the LSTM reaches
    /// 0.005, the GRU 0.002, the bidirectional LSTM 0.006; at T = 20 the GRU 0.003 and the bidirectional LSTM 0.043.
    /// With the carry detached between steps (gradients through one step only) the same run gave 0.018, 0.023, 0.016 at
    /// T = 10 (still learning something) but 0.107 (GRU) and 0.173 (bidirectional LSTM) at T = 20: the T = 20 floors catch it.
    /// </summary>
    [Fact]
    public void GatedModelsBeatPredictingTheMeanByAMarginThatNeedsTheirGradientThroughTime()
    {
        var metrics = Files.Metrics(run.Dir("sequence"));
        double Mse(string run) => metrics[run + "_test_mse"].GetDouble();
        foreach (var kind in new[] { AddingModels.Lstm, AddingModels.Gru, AddingModels.BiLstm })
            Assert.True(Mse($"{kind}_t10") < 0.05, $"{kind} at T = 10: test MSE {Mse($"{kind}_t10")}");
        Assert.True(Mse("gru_t20") < 0.03, $"GRU at T = 20: test MSE {Mse("gru_t20")}");
        Assert.True(Mse("bilstm_t20") < 0.1, $"bidirectional LSTM at T = 20: test MSE {Mse("bilstm_t20")}");
        Assert.True(metrics["gru_t20_solved"].GetBoolean());
        Assert.Equal(256, metrics["gru_t20_steps_to_solve"].GetInt32());
    }

    [Fact]
    public void HistoryHoldsEachRunsLossAndTestMsePerEvaluation()
    {
        var dir = run.Dir("sequence");
        var (header, rows) = Files.Csv(Path.Combine(dir, "history.csv"));
        Assert.Equal("step", header[0]);
        Assert.Equal(1 + 2 * AddingModels.Names.Length * QuickLengths.Length, header.Length);
        Assert.Equal([0.0, 256.0], rows.Select(r => r[0]));   // untrained, then after the one quick epoch
        var metrics = Files.Metrics(dir);
        foreach (var kind in AddingModels.Names)
            foreach (var t in QuickLengths)
            {
                int mse = Array.IndexOf(header, $"{kind}_t{t}_test_mse"), loss = Array.IndexOf(header, $"{kind}_t{t}_loss");
                Assert.True(mse > 0 && loss > 0, $"no columns for {kind} at T = {t}");
                Assert.Equal(metrics[$"{kind}_t{t}_test_mse"].GetDouble(), rows[^1][mse], 9);
                Assert.True(double.IsNaN(rows[0][loss]));   // no training loss before the first step
                Assert.True(rows.All(r => double.IsFinite(r[mse]) && r[mse] > 0));
                Assert.True(File.Exists(Path.Combine(dir, $"{kind}_t{t}_training_log.csv")));
                var events = Directory.GetFiles(Path.Combine(dir, "tensorboard", $"{kind}_t{t}"), "events.out.tfevents.*", SearchOption.AllDirectories);
                Assert.NotEmpty(events);   // train/ and validation/, as Keras writes them
                Assert.All(events, e => Assert.True(File.ReadAllBytes(e).AsSpan().IndexOf("loss"u8) >= 0, $"no loss in {e}"));
            }
    }

    [Fact]
    public void FiguresDecodeWithOnePanelPerLength()
    {
        var dir = run.Dir("sequence");
        using (var curves = SKBitmap.Decode(Path.Combine(dir, "mse_vs_steps.png")))
        {
            Assert.NotNull(curves);
            Assert.Equal(460 * QuickLengths.Length, curves.Width);
            Assert.Equal(440, curves.Height);
        }
        using (var bars = SKBitmap.Decode(Path.Combine(dir, "final_mse.png")))
            Assert.True(bars is { Width: >= 640, Height: 420 });
        foreach (var f in new[] { "mse_vs_steps", "final_mse" }) Files.AssertSvg(Path.Combine(dir, f + ".svg"));
        var svg = File.ReadAllText(Path.Combine(dir, "mse_vs_steps.svg"));
        Assert.Contains("predict the mean (0.167)", svg);
        Assert.Contains("T = 20", svg);
        var readme = File.ReadAllText(Path.Combine(run.Root, "README.md"));
        Assert.Contains("## sequence", readme);
        Assert.Contains("![mse vs steps](sequence/mse_vs_steps.png)", readme);
        Assert.Contains("| lstm_t10_test_mse |", readme);
    }

    [Theory]
    [InlineData("1", "'--lengths 1': 1 must be between 2 and 10000.")]
    [InlineData("50,x", "'--lengths 50,x': 'x' is not a whole number")]
    [InlineData("50,50", "'--lengths 50,50': 50 is listed twice.")]
    [InlineData("50,", "'--lengths 50,': '' is not a whole number")]
    public void BadLengthsAreOneLineAndExitCodeTwo(string lengths, string message)
    {
        using var folder = new TempFolder();
        var r = Cli.Run("sequence", "--quick", "--lengths", lengths, "--out", folder["out"]);
        Assert.Equal(2, r.Code);
        Assert.Contains("sequence: " + message, r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(Directory.Exists(folder["out"]));
    }

    [Fact]
    public void BadModelsAreOneLineAndExitCodeTwo()
    {
        using var folder = new TempFolder();
        var r = Cli.Run("sequence", "--quick", "--models", "lstm,rnn", "--out", folder["out"]);
        Assert.Equal(2, r.Code);
        Assert.Equal("sequence: '--models lstm,rnn': 'rnn' is not one of simple_rnn, lstm, gru, bilstm.", r.Error.Trim());
        Assert.False(Directory.Exists(folder["out"]));
    }

    /// <summary>Each of the experiment's own options changes what runs (what metrics.json and history.csv say).</summary>
    [Fact]
    public void EveryOptionChangesTheRun()
    {
        using var folder = new TempFolder();
        Cli.Ok("sequence", "--quick", "--lengths", "6,4", "--models", "gru,simple_rnn", "--units", "5", "--train-size", "40",
            "--batch-size", "8", "--lr", "0.05", "--out", folder["out"]);
        var metrics = Files.Metrics(folder["out"]);
        Assert.Equal([6, 4], metrics["lengths"].EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(5, metrics["steps"].GetInt32());   // 40 sequences in batches of 8, one quick epoch
        Assert.Equal(AddingModels.MatchedUnits(AddingModels.Gru, 5), metrics["gru_units"].GetInt32());
        Assert.False(metrics.ContainsKey("lstm_units"));
        Assert.False(metrics.ContainsKey("lstm_t6_test_mse"));
        var (header, _) = Files.Csv(Path.Combine(folder["out"], "history.csv"));
        Assert.Equal(["step", "gru_t6_loss", "gru_t6_test_mse", "simple_rnn_t6_loss", "simple_rnn_t6_test_mse",
            "gru_t4_loss", "gru_t4_test_mse", "simple_rnn_t4_loss", "simple_rnn_t4_test_mse"], header);
        Assert.Contains("Adam(0.05)", File.ReadAllText(Path.Combine(folder["out"], "run.log.jsonl")));

        // --long picks the full study's units (and lengths, epochs, sizes) where no option says otherwise.
        Cli.Ok("sequence", "--long", "--lengths", "4", "--models", "lstm", "--epochs", "1", "--train-size", "16", "--out", folder["long"]);
        var full = Files.Metrics(folder["long"]);
        Assert.Equal(AddingModels.StudyUnits, full["lstm_units"].GetInt32());
        Assert.False(full["quick"].GetBoolean());
    }
}
