using System.Diagnostics;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// --distributed: the program under mpirun (2 ranks, Open MPI) writes one set of results equal to the single-process
/// run's; a failure on one rank stops both; without a launcher it is one rank; experiments that do not train
/// data-parallel refuse the option.
/// </summary>
public class DistributedTests
{
    /// <summary>The single-process quick digits run the distributed ones are compared with (run once, in process).</summary>
    private static readonly Lazy<Dictionary<string, System.Text.Json.JsonElement>> Single = new(() =>
    {
        using var folder = new TempFolder();
        Cli.Ok("digits", "--quick", "--out", folder["single"]);
        return Files.Metrics(folder["single"]);
    });

    private static readonly string? Mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);

    public sealed class MpiFactAttribute : FactAttribute
    {
        public MpiFactAttribute()
        {
            if (Mpirun is null) Skip = "mpirun not found: install Open MPI (apt-get install openmpi-bin) to run the 2-rank tests";
        }
    }

    private static ChildProcess.Result TwoRanks(params string[] args)
    {
        var info = new ProcessStartInfo(Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-np", "2", "--oversubscribe" }) info.ArgumentList.Add(a);
        if (Environment.UserName == "root") info.ArgumentList.Add("--allow-run-as-root");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(ChildProcess.Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        return ChildProcess.Finish(Process.Start(info)!);
    }

    [MpiFact]
    public void TwoRanksOfDigitsWriteOneSetOfResultsEqualToOneProcess()
    {
        using var folder = new TempFolder();
        var r = TwoRanks("digits", "--quick", "--distributed", "--out", folder["out"]);
        Assert.True(r.Code == 0, r.Output + r.Error);
        Assert.Contains("--distributed: 2 rank(s) over Open MPI", r.Output);
        // Rank 0 alone prints progress and the closing line, and alone writes: one output folder, nothing else.
        Assert.Equal(1, Count(r.Output, "Epoch 1/1"));
        Assert.Equal(1, Count(r.Output, "Results in "));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
        Assert.Empty(Directory.GetDirectories(Path.GetTempPath(), "genlab-digits-rank1-*"));   // the other rank's scratch is gone
        var ddp = Files.Metrics(folder["out"]);
        var single = Single.Value;
        Assert.Equal(2, ddp["ranks"].GetInt32());
        // The global batch (10) split 5 + 5 with averaged gradients is the single-process batch: same model up to
        // the order of float additions (measured: 2e-7 on the test loss).
        Assert.Equal(single["test_loss"].GetDouble(), ddp["test_loss"].GetDouble(), 1e-5);
        Assert.Equal(single["test_accuracy"].GetDouble(), ddp["test_accuracy"].GetDouble(), 1e-9);
        Assert.Equal(single["train_accuracy"].GetDouble(), ddp["train_accuracy"].GetDouble(), 1e-9);
    }

    [MpiFact]
    public void AFailureOnOneRankStopsBothWithThatRanksMessage()
    {
        // Only rank 0 opens the output folder, so only it fails; rank 1 would wait for it in the first broadcast forever.
        using var folder = new TempFolder();
        File.WriteAllText(folder["file"], "not a folder");
        var r = TwoRanks("digits", "--quick", "--distributed", "--out", folder["file"]);
        Assert.NotEqual(0, r.Code);
        Assert.Contains($"rank 0 of 2: cannot write results to {folder["file"]}", r.Error);
        Assert.Equal("not a folder", File.ReadAllText(folder["file"]));
    }

    [Fact]
    public void WithoutALauncherDistributedIsOneRank()
    {
        using var folder = new TempFolder();
        var r = Cli.Ok("digits", "--quick", "--distributed", "--out", folder["out"]);
        Assert.Contains("--distributed: not started by mpirun or srun, so one rank", r.Output);
        var metrics = Files.Metrics(folder["out"]);
        Assert.Equal(1, metrics["ranks"].GetInt32());
        Assert.Equal(Single.Value["test_loss"].GetDouble(), metrics["test_loss"].GetDouble(), 1e-12);
    }

    [Fact]
    public void ExperimentsThatDoNotTrainDataParallelRefuseIt()
    {
        var r = Cli.Run("toy", "--quick", "--distributed");
        Assert.Equal(2, r.Code);
        Assert.Equal("--distributed: toy does not train data-parallel yet (digits and gan do).", r.Error.Trim());
        var all = Cli.Run("all", "--quick", "--distributed");
        Assert.Equal(2, all.Code);
        Assert.StartsWith("all: --distributed trains one experiment at a time", all.Error.Trim());
    }

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "").Length) / what.Length;
}
