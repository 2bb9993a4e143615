using Lab.Core.IO;
using Lab.Experiments.All;
using Lab.Experiments.Output;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// A results folder is GenLab's or it is not touched (issue 11): what --out does with an existing folder, the
/// recovery every run performs first, and the one-line error path. In-process through <see cref="Program.Run"/>.
/// </summary>
public class OutputFolderTests
{
    [Fact]
    public void AFolderHoldingAUsersFilesIsRefusedBeforeAnyWorkAndLeftByteIdentical()
    {
        using var folder = new TempFolder();
        var dir = folder["mine"];
        Directory.CreateDirectory(Path.Combine(dir, "photos"));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "my notes");
        File.WriteAllBytes(Path.Combine(dir, "photos", "cat.png"), [1, 2, 3]);
        var before = Files.Snapshot(dir);

        var r = Cli.Run("toy", "--quick", "--out", dir);

        Assert.Equal(2, r.Code);
        Assert.Equal($"refusing to replace {dir}: it holds files GenLab did not write (notes.txt, photos/).", r.Error.Trim());
        Assert.DoesNotContain("Epoch", r.Output); // refused before any training
        AssertSame(before, dir);
        AssertNoLeftovers(dir);
    }

    [Fact]
    public void AGenLabFolderIsReplacedAndListsWhatItHolds()
    {
        using var folder = new TempFolder();
        var dir = folder["toy"];
        Directory.CreateDirectory(dir); // an empty folder is GenLab's to fill
        Cli.Ok("toy", "--quick", "--out", dir);
        var first = RunManifest.Read(dir);
        Assert.NotNull(first);
        Assert.Equal(("toy", "complete"), (first.Experiment, first.State));
        Assert.Contains("metrics.json", first.Files);
        Assert.Contains("tensorboard/", first.Files);
        Assert.Empty(RunManifest.Foreign(dir));

        Cli.Ok("toy", "--quick", "--out", dir, "--seed", "3");
        var second = RunManifest.Read(dir)!;
        Assert.Contains("--seed 3", second.Options);
        Assert.Equal(3, Files.Metrics(dir)["seed"].GetInt32());
        AssertNoLeftovers(dir);

        // A file added by hand makes the folder partly the user's: refused, nothing changes.
        File.WriteAllText(Path.Combine(dir, "my-notes.md"), "keep me");
        var before = Files.Snapshot(dir);
        var r = Cli.Run("toy", "--quick", "--out", dir);
        Assert.Equal(2, r.Code);
        Assert.Contains($"refusing to replace {dir}: it holds files GenLab did not write (my-notes.md)", r.Error);
        AssertSame(before, dir);
    }

    [Theory]
    [InlineData("under-a-file", "is a file, not a folder")]
    [InlineData("a-file", "is a file, not a folder")]
    [InlineData("/proc/genlab-test-out", "cannot write results to /proc/genlab-test-out")]
    [InlineData("/", "a file-system root cannot be an output folder")]
    public void AnOutputPathThatCannotWorkIsOneLineAndExitCodeTwo(string where, string message)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["a-file"], "not a folder");
        var dir = where switch
        {
            "under-a-file" => Path.Combine(folder["a-file"], "out"),
            "a-file" => folder["a-file"],
            _ => where,
        };
        var r = Cli.Run("toy", "--quick", "--out", dir);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Error);
        AssertOneLineWithoutStack(r.Error);
        Assert.Equal("not a folder", File.ReadAllText(folder["a-file"]));
        Assert.Equal([folder["a-file"]], Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public void AFailedRunIsOneLineKeepsItsLogWithTheStackAndVerbosePrintsTheStack()
    {
        using var folder = new TempFolder();
        var dir = folder["score-digits"];
        var r = Cli.Run("score-digits", "--quick", "--out", dir, "--checkpoint", folder["missing.ckpt"]);
        Assert.Equal(1, r.Code);
        AssertOneLineWithoutStack(r.Error);
        Assert.Contains("score-digits failed:", r.Error);
        Assert.Contains("missing.ckpt", r.Error);
        var log = dir + ".failed-run.log.jsonl";
        Assert.Contains($"details in {log}", r.Error);
        Assert.Contains("   at ", File.ReadAllText(log).Replace("\\n", "\n")); // the stack trace, in the run log
        Assert.False(Directory.Exists(dir));
        AssertNoLeftovers(dir);

        var verbose = Cli.Run("score-digits", "--quick", "--out", dir, "--checkpoint", folder["missing.ckpt"], "--verbose");
        Assert.Equal(1, verbose.Code);
        Assert.Contains("   at ", verbose.Error);
    }

    [Fact]
    public void RecoveryMovesBackResultsOfARunKilledBetweenItsTwoRenamesAndRemovesDeadStagingFolders()
    {
        using var folder = new TempFolder();
        var dir = folder["toy"];
        Cli.Ok("toy", "--quick", "--out", dir);
        var good = Files.Snapshot(dir);
        // What a run with PID 2147480001 (no such process) leaves when killed between `out -> out.old-PID` and
        // `staging -> out` (the fallback commit), and what a run killed while staging leaves.
        Directory.Move(dir, dir + ".old-2147480001");
        Directory.CreateDirectory(dir + ".staging-2147480001");
        new RunManifest { Experiment = "toy" }.Write(dir + ".staging-2147480001");
        Directory.CreateDirectory(dir + ".staging-2147480002");
        File.WriteAllText(Path.Combine(dir + ".staging-2147480002", "metrics.json"), "{}");
        new RunManifest { Experiment = "toy" }.Write(dir + ".staging-2147480002");
        // A folder of the user's that merely looks like a leftover is not GenLab's to delete.
        Directory.CreateDirectory(dir + ".staging-7");
        File.WriteAllText(Path.Combine(dir + ".staging-7", "mine.txt"), "mine");

        using (var next = OutputFolder.Open(dir, new RunManifest { Experiment = "toy" }))
        {
            Assert.Equal(3, next.Recovered.Count);
            AssertSame(good, dir);
        }
        AssertSame(good, dir);
        Assert.Equal([dir, dir + ".staging-7"], Directory.EnumerateDirectories(folder.Path).Order());
    }

    [Fact]
    public void AllRefusesAUsersReadmeOrFolderUpFrontAndTouchesNothing()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["README.md"], "# my project\n");
        var before = Files.Snapshot(folder.Path);
        var r = Cli.Run("all", "--quick", "--out", folder.Path);
        Assert.Equal(2, r.Code);
        Assert.Equal($"refusing to replace {folder["README.md"]}: GenLab did not write it (its first line is not GenLab's gallery marker).", r.Error.Trim());
        Assert.DoesNotContain("==", r.Output); // no experiment ran
        AssertSame(before, folder.Path);
        Assert.Empty(Directory.EnumerateDirectories(folder.Path));

        File.Delete(folder["README.md"]);
        Directory.CreateDirectory(folder["vae"]);
        File.WriteAllText(folder["vae/draft.txt"], "mine");
        r = Cli.Run("all", "--quick", "--out", folder.Path);
        Assert.Equal(2, r.Code);
        Assert.Contains($"refusing to replace {folder["vae"]}: it holds files GenLab did not write (draft.txt)", r.Error);
        Assert.Equal([folder["vae"]], Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public void AGalleryCarriesTheMarkerAndIsReplacedByTheNextAll()
    {
        using var folder = new TempFolder();
        var others = string.Join(",", Program.Experiments.Select(e => e.Name).Where(n => n != "toy"));
        Cli.Ok("all", "--quick", "--out", folder.Path, "--skip", others);
        Assert.Equal(Gallery.Marker, File.ReadLines(folder["README.md"]).First());
        Cli.Ok("all", "--quick", "--out", folder.Path, "--skip", others, "--seed", "1");
        Assert.Contains("--seed 1", File.ReadAllText(folder["README.md"]));
    }

    [Fact]
    public void AUsersFolderNamedCacheIsNeitherReadNorWritten()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder["cache"]);
        File.WriteAllText(folder["cache/digits-classifier-e1.ckpt"], "not a checkpoint, and not GenLab's");
        File.WriteAllText(folder["cache/shopping.txt"], "milk");
        var before = Files.Snapshot(folder["cache"]);
        var r = Cli.Ok("vae", "--quick", "--out", folder["vae"]);
        Assert.Contains($"not caching the digits classifier: {folder["cache"]} holds files GenLab did not write", r.Output);
        AssertSame(before, folder["cache"]);
    }

    [Fact]
    public void LockFilesUnusedForAWeekAreRemovedByTheNextLock()
    {
        using var folder = new TempFolder();
        var locks = Path.Combine(Path.GetTempPath(), $"genlab-locks-{Environment.UserName}");
        Directory.CreateDirectory(locks);
        var stale = Path.Combine(locks, $"test-{Guid.NewGuid():N}.lock");
        var recent = Path.Combine(locks, $"test-{Guid.NewGuid():N}.lock");
        File.WriteAllBytes(stale, []);
        File.WriteAllBytes(recent, []);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - OutputLock.Unused - TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(recent, DateTime.UtcNow - OutputLock.Unused + TimeSpan.FromHours(1));
        try
        {
            using (var held = OutputLock.TryAcquire(folder["out"]))
            {
                Assert.NotNull(held);
                Assert.Null(OutputLock.TryAcquire(folder["out"])); // taken, even within one process
            }
            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(recent));
        }
        finally { File.Delete(recent); }
    }

    [NoCudaFact]
    public void CudaWithoutAGpuFailsOnceUpFrontAndLeavesNothing()
    {
        using var folder = new TempFolder();
        var r = Cli.Run("toy", "--quick", "--device", "cuda", "--out", folder["toy"]);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("CUDA not available", r.Error);
        AssertOneLineWithoutStack(r.Error);

        var all = Cli.Run("all", "--quick", "--device", "cuda", "--out", folder.Path);
        Assert.Equal(2, all.Code);
        Assert.StartsWith("CUDA not available", all.Error);
        AssertOneLineWithoutStack(all.Error);
        Assert.DoesNotContain("==", all.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    /// <summary>The committed results/ folders and gallery carry GenLab's marks, so the Quick start's `all` replaces them.</summary>
    [Fact]
    public void TheCommittedResultsAreGenLabsToReplace()
    {
        var results = Path.Combine(RepoRoot(), "results");
        var committed = Program.Experiments.Select(e => Path.Combine(results, e.Name)).Where(Directory.Exists).ToList();
        Assert.NotEmpty(committed);
        foreach (var dir in committed)
        {
            Assert.True(RunManifest.Read(dir) is not null, $"{dir} has no {RunManifest.FileName}");
            Assert.Empty(RunManifest.Foreign(dir));
        }
        Gallery.Refuse(results);
        Assert.Equal(Gallery.Marker, File.ReadLines(Path.Combine(results, Gallery.FileName)).First());
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "GenLab.sln"))) return d.FullName;
        throw new InvalidOperationException("GenLab.sln not found above " + AppContext.BaseDirectory);
    }

    internal static void AssertSame(Dictionary<string, byte[]> before, string dir)
    {
        var after = Files.Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
    }

    /// <summary>No staging or old folder of any run beside <paramref name="dir"/>.</summary>
    internal static void AssertNoLeftovers(string dir)
    {
        var name = Path.GetFileName(dir);
        var leftovers = Directory.EnumerateDirectories(Path.GetDirectoryName(dir)!)
            .Select(Path.GetFileName)
            .Where(n => n!.StartsWith(name + ".staging-", StringComparison.Ordinal) || n.StartsWith(name + ".old-", StringComparison.Ordinal)
                        || n.StartsWith(name + ".removing-", StringComparison.Ordinal));
        Assert.Empty(leftovers);
    }

    internal static void AssertOneLineWithoutStack(string error)
    {
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", error);
    }
}

/// <summary>A fact for machines without CUDA (it checks the error a missing GPU gives).</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        try
        {
            Lab.Core.Backends.BackendRegistry.For(Lab.Core.Device.Cuda());
            Skip = "CUDA is available here; this checks the error without it";
        }
        catch (Lab.Core.Backends.DeviceUnavailableException) { }
    }
}
