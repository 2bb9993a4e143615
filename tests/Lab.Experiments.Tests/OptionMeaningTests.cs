using System.Text.Json;
using Lab.Core.Data.Files;
using Lab.Experiments.Cli;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>Every option an experiment lists does something; the ones that were fixed in code or ignored now count.</summary>
[Collection(QuickCollection.Name)]
public class OptionMeaningTests(QuickRun run)
{
    public static TheoryData<string> ExperimentNames => [.. Program.Experiments.Select(e => e.Name)];

    /// <summary>
    /// The run log records each option the run consulted. In the shared quick runs (defaults only) every option an
    /// experiment lists in --help, and every common one, must have been consulted: one that is never read is a no-op.
    /// </summary>
    [Theory]
    [MemberData(nameof(ExperimentNames))]
    public void EveryListedOptionIsRead(string name)
    {
        var experiment = Program.Experiments.Single(e => e.Name == name);
        var log = Path.Combine(run.Dir(name == "mnist" ? "mnist-synthetic" : name), "run.log.jsonl");
        Assert.True(File.Exists(log), $"{log} is missing");
        var read = File.ReadLines(log)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("Option", out _))
            .Select(e => e.GetProperty("Option").GetString())
            .ToHashSet();
        var unread = experiment.Options.Concat(CommonOptions.All).Select(o => o.Name.TrimStart('-')).Where(o => !read.Contains(o)).ToList();
        Assert.True(unread.Count == 0, $"{name} lists options its run never reads: {string.Join(", ", unread)}");
    }

    [Fact]
    public void AdversarialTrainsForTheEpochsAsked()
    {
        using var folder = new TempFolder();
        var r = Cli.Ok("adversarial", "--epochs", "2", "--pairs", "4", "--max-steps", "5", "--quick", "--out", folder["out"]);
        Assert.Contains("training the digits CNN for 2 epoch(s)", r.Output);
        Assert.Equal(2, Files.Metrics(folder["out"])["cnn_epochs"].GetInt32());
        Assert.Contains("Epoch 2/2", r.Output);
    }

    [Fact]
    public void AdversarialAttacksTheCheckpointItIsGivenEvenInQuickMode()
    {
        using var folder = new TempFolder();
        var checkpoint = Path.Combine(run.Dir("digits"), "checkpoints", "digits_cnn.ckpt");
        var r = Cli.Ok("adversarial", "--checkpoint", checkpoint, "--pairs", "4", "--max-steps", "5", "--quick", "--out", folder["out"]);
        Assert.Contains($"attacking the digits CNN from {checkpoint}", r.Output);
        Assert.DoesNotContain("cnn_epochs", Files.Metrics(folder["out"]).Keys);
    }

    [Fact]
    public void MnistLabelsOutsideTheClassesNameTheFileAndItem()
    {
        using var folder = new TempFolder();
        var data = folder["idx"];
        Directory.CreateDirectory(data);
        IdxFile.Write(Path.Combine(data, "train-images-idx3-ubyte.gz"), new byte[3 * 28 * 28], [3, 28, 28]);
        IdxFile.WriteLabels(Path.Combine(data, "train-labels-idx1-ubyte.gz"), [1, 10, 2]);
        IdxFile.Write(Path.Combine(data, "t10k-images-idx3-ubyte.gz"), new byte[1 * 28 * 28], [1, 28, 28]);
        IdxFile.WriteLabels(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"), [3]);

        var r = Cli.Run("mnist", "--data", data, "--quick", "--out", folder["out"]);
        Assert.Equal(2, r.Code);   // a malformed data file is bad input
        Assert.DoesNotContain("   at ", r.Error);
        Assert.Contains($"{Path.Combine(data, "train-labels-idx1-ubyte.gz")}: label of item 1 is 10, outside the 10 classes 0..9.", r.Error);
        Assert.False(Directory.Exists(folder["out"]));
    }
}
