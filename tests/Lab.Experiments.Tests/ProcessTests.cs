using System.Diagnostics;
using System.Text.Json;
using Lab.Core.IO;
using Lab.Experiments.Output;
using Xunit;
using static Lab.Experiments.Tests.OutputFolderTests;

namespace Lab.Experiments.Tests;

/// <summary>
/// The real program as its own process: --out . in a user's folder, SIGINT/SIGTERM, SIGKILL at random instants,
/// and two runs into one folder. Old or new results, never neither, and nothing left behind.
/// </summary>
public class ProcessTests
{
    private const int SigInt = 2, SigKill = 9, SigTerm = 15;

    [Fact]
    public void OutDotInAUsersFolderIsRefusedAndTheFolderIsUntouched()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["thesis.tex"], "\\documentclass{article}");
        var before = Files.Snapshot(folder.Path);
        var r = ChildProcess.Run(folder.Path, "toy", "--quick", "--out", ".");
        Assert.Equal(2, r.Code);
        Assert.Contains($"refusing to replace {folder.Path}: it holds files GenLab did not write (thesis.tex)", r.Error);
        AssertOneLineWithoutStack(r.Error);
        AssertSame(before, folder.Path);
    }

    [SigIntFact]
    public void SigIntRemovesTheStagingFolderKeepsTheOldResultsAndExits130() => Interrupt(SigInt, 130);

    [Fact]
    public void SigTermRemovesTheStagingFolderKeepsTheOldResultsAndExits143() => Interrupt(SigTerm, 143);

    private static void Interrupt(int signal, int exitCode)
    {
        using var folder = new TempFolder();
        var dir = folder["toy"];
        Cli.Ok("toy", "--quick", "--out", dir);
        var before = Files.Snapshot(dir);

        var p = ChildProcess.Start(folder.Path, null, "toy", "--quick", "--out", dir);
        var staging = $"{dir}.staging-{p.Id}";
        ChildProcess.WaitUntil(() => Directory.Exists(staging) || p.HasExited, "the run created its staging folder");
        ChildProcess.Signal(p, signal);
        var r = ChildProcess.Finish(p);

        Assert.Equal(exitCode, r.Code);
        Assert.Contains("interrupted", r.Error);
        Assert.False(Directory.Exists(staging));
        AssertSame(before, dir);
        AssertNoLeftovers(dir);
    }

    [Fact]
    public void ASecondRunIntoTheSameFolderIsRefusedNamingTheFirstOnesPid()
    {
        using var folder = new TempFolder();
        var dir = folder["toy"];
        var first = ChildProcess.Start(folder.Path, null, "toy", "--quick", "--out", dir);
        ChildProcess.WaitUntil(() => Directory.Exists($"{dir}.staging-{first.Id}") || first.HasExited, "the first run started writing");

        var second = Cli.Run("toy", "--quick", "--out", dir);
        var firstResult = ChildProcess.Finish(first);

        Assert.Equal(1, second.Code);
        Assert.Equal($"another GenLab run (PID {first.Id}) is writing to {dir}; wait for it to finish or choose another --out.", second.Error.Trim());
        Assert.True(firstResult.Code == 0, firstResult.Error);
        AssertComplete(dir);
        AssertNoLeftovers(dir);
    }

    /// <summary>
    /// SIGKILL at a random instant of a run that replaces good results, many times; after each, the next run's start
    /// (lock and recovery) must find the complete old results or the complete new ones, and nothing else. Every other
    /// run uses the two-rename fallback instead of the atomic exchange, so both commits are killed at random.
    /// </summary>
    [Fact]
    public void KilledAtARandomInstantTheFolderHoldsTheOldOrTheNewResultsComplete()
    {
        using var folder = new TempFolder();
        var dir = folder["toy"];
        var clock = Stopwatch.StartNew();
        var ok = ChildProcess.Run(folder.Path, "toy", "--quick", "--out", dir);
        Assert.True(ok.Code == 0, ok.Error);
        var runMilliseconds = (int)clock.ElapsedMilliseconds;

        var random = new Random(11);
        int sawOld = 0, sawNew = 0;
        for (int i = 0; i < 15; i++)
        {
            var before = RunManifest.Read(dir)!;
            var env = new Dictionary<string, string> { ["GENLAB_RENAME_EXCHANGE"] = i % 2 == 0 ? "1" : "0" };
            var p = ChildProcess.Start(folder.Path, env, "toy", "--quick", "--out", dir, "--seed", (i + 1).ToString());
            Thread.Sleep(random.Next(runMilliseconds * 11 / 10));
            if (!p.HasExited) ChildProcess.Signal(p, SigKill);
            ChildProcess.Finish(p);

            using (OutputFolder.Open(dir, new RunManifest { Experiment = "toy" })) { } // what the next run does first
            AssertComplete(dir);
            AssertNoLeftovers(dir);
            if (RunManifest.Read(dir)!.Utc == before.Utc) sawOld++;
            else sawNew++;
        }
        Assert.True(sawOld > 0, $"every run finished before its kill ({sawNew} new results); the kills should land mid-run");
    }

    /// <summary>The manifest says complete and every file it lists is there; metrics.json parses.</summary>
    private static void AssertComplete(string dir)
    {
        var manifest = RunManifest.Read(dir);
        Assert.True(manifest is { State: "complete" }, $"{dir} has no complete manifest");
        foreach (var f in manifest.Files)
            Assert.True(f.EndsWith('/') ? Directory.Exists(Path.Combine(dir, f)) : File.Exists(Path.Combine(dir, f)), $"{f} listed but missing");
        Assert.Empty(RunManifest.Foreign(dir));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        Assert.Equal("toy", metrics.RootElement.GetProperty("experiment").GetString());
    }
}

/// <summary>
/// SIGINT reaches a child only where this process does not ignore it (a shell's background job, nohup): a process
/// started with SIGINT ignored keeps it ignored, and .NET then installs no handler for it.
/// </summary>
public sealed class SigIntFactAttribute : FactAttribute
{
    public SigIntFactAttribute()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        if (line is null) Skip = "no /proc/self/status to tell whether SIGINT is ignored here";
        else if ((Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 1)) != 0) Skip = "SIGINT is ignored by this test process (started in the background), so a child cannot receive it";
    }
}
