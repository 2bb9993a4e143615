using System.Diagnostics;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// A run whose loss or samples turn NaN or infinite fails (exit 1) with one message naming the experiment, where it
/// happened and the likely cause, and leaves earlier results (the shared quick run's, copied) byte for byte as they were.
/// </summary>
[Collection(QuickCollection.Name)]
public class NonFiniteRunTests(QuickRun run)
{
    private const string Rerun = "; rerun with --detect-anomaly to find the op";

    [Theory]
    [InlineData("score", new[] { "--lr", "1e9" },
        @"loss became (NaN|infinite) at epoch 1, step \d+ of score: the learning rate 1e9 \(--lr\) is probably too high" + Rerun)]
    [InlineData("score", new[] { "--eps", "1e30" },
        @"Langevin samples became (NaN|infinite) after step \d+ of 10 \(value \d+ of 2000\) of score: the step size 1e30 \(--eps\) is probably too high" + Rerun)]
    [InlineData("score-digits", new[] { "--lr", "1e9" },
        @"loss became (NaN|infinite) at epoch 1, step \d+ of score-digits: the learning rate 1e9 \(--lr\) is probably too high" + Rerun)]
    public void StopsTheRunAndKeepsEarlierResults(string experiment, string[] args, string message)
    {
        using var folder = new TempFolder();
        var dir = CopyOfEarlierResults(experiment, folder);
        var before = Files.Snapshot(dir);

        var r = Cli.Run([experiment, .. args, "--quick", "--out", dir]);

        Assert.Equal(1, r.Code);
        Assert.Matches(message, r.Error);
        AssertUnchanged(before, dir);
        // No staging folder left behind; the failure's log (with its stack) beside the results, named in the message.
        var log = dir + ".failed-run.log.jsonl";
        Assert.Equal([dir, log], Directory.EnumerateFileSystemEntries(folder.Path).Order());
        Assert.Contains(log, r.Error);
        Assert.Contains("NonFiniteException", File.ReadAllText(log));
    }

    [Fact]
    public void DetectAnomalyNamesTheOp()
    {
        using var folder = new TempFolder();
        var r = Cli.Run("score", "--lr", "1e9", "--detect-anomaly", "--quick", "--out", folder["out"]);
        Assert.Equal(1, r.Code);
        Assert.Matches(@"Anomaly: \w+ produced (NaN|Infinity|-Infinity) at flat index \d+ of its result of shape \[[\d, ]+\], at epoch 1, step \d+ of score: the learning rate 1e9 \(--lr\) is probably too high", r.Error);
        Assert.DoesNotContain(Rerun, r.Error);
        Assert.Equal([folder["out"] + ".failed-run.log.jsonl"], Directory.EnumerateFileSystemEntries(folder.Path));
    }

    /// <summary>The variable is read by the process, so this runs the program as one (setting it here would reach every test running beside).</summary>
    [Fact]
    public async Task TheEnvironmentVariableTurnsOnAnomalyMode()
    {
        using var folder = new TempFolder();
        var dll = typeof(Program).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "exec", dll, "score", "--lr", "1e9", "--quick", "--out", folder["out"] }) start.ArgumentList.Add(a);
        start.Environment[ExperimentContext.DetectAnomalyVariable] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await stdout;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Matches(@"Anomaly: \w+ produced", stderr);
        Assert.Contains("at epoch 1, step", stderr);
    }

    private string CopyOfEarlierResults(string experiment, TempFolder folder)
    {
        var source = run.Dir(experiment);
        Assert.True(File.Exists(Path.Combine(source, "metrics.json")), $"the quick run left no results in {source}");
        var dir = folder["out"];
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return dir;
    }

    private static void AssertUnchanged(Dictionary<string, byte[]> before, string dir)
    {
        var after = Files.Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
    }
}
