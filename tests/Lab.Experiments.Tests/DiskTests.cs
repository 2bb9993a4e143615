using System.Diagnostics;
using Xunit;
using static Lab.Experiments.Tests.OutputFolderTests;

namespace Lab.Experiments.Tests;

/// <summary>
/// A full disk and a read-only file system, on a small tmpfs mounted for the test (root can write to a chmod-ed
/// folder, so only a mount makes a path truly unwritable). Skipped with the reason where mounting is not allowed.
/// </summary>
public class DiskTests
{
    [TmpfsFact]
    public void AFullDiskFailsInOneLineWithExitCodeOneAndKeepsTheOldResults()
    {
        using var disk = new Tmpfs("8m");
        var dir = Path.Combine(disk.Path, "toy");
        Cli.Ok("toy", "--quick", "--out", dir);
        var before = Files.Snapshot(dir);
        // Room for less than half of another run beside the first one's results.
        disk.Remount($"size={disk.UsedBytes + disk.UsedBytes / 3}");

        var r = Cli.Run("toy", "--quick", "--out", dir);

        Assert.Equal(1, r.Code);
        Assert.Contains("the disk is full", r.Error);
        Assert.Contains(dir, r.Error);
        AssertOneLineWithoutStack(r.Error);
        AssertSame(before, dir);
        AssertNoLeftovers(dir);
    }

    [TmpfsFact]
    public void AReadOnlyFolderIsRefusedInOneLineWithExitCodeTwo()
    {
        using var disk = new Tmpfs("8m");
        var dir = Path.Combine(disk.Path, "toy");
        Cli.Ok("toy", "--quick", "--out", dir);
        var before = Files.Snapshot(dir);
        disk.Remount("ro");

        var r = Cli.Run("toy", "--quick", "--out", dir);
        Assert.Equal(2, r.Code);
        Assert.Contains($"cannot write results to {dir}: Read-only file system", r.Error);
        AssertOneLineWithoutStack(r.Error);

        var under = Cli.Run("toy", "--quick", "--out", Path.Combine(disk.Path, "new", "toy"));
        Assert.Equal(2, under.Code);
        Assert.Contains("Read-only file system", under.Error);
        AssertOneLineWithoutStack(under.Error);
        AssertSame(before, dir);

        var all = Cli.Run("all", "--quick", "--out", disk.Path);
        Assert.Equal(2, all.Code);
        Assert.Contains($"{disk.Path}/.genlab-probe-", all.Error);
        Assert.Contains("Read-only file system", all.Error);
        AssertOneLineWithoutStack(all.Error);
        Assert.DoesNotContain("==", all.Output); // nothing ran
    }
}

/// <summary>A tmpfs mounted on a fresh temp folder, unmounted and removed at the end.</summary>
public sealed class Tmpfs : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "genlab-tmpfs-" + Guid.NewGuid().ToString("N")[..8]);

    public Tmpfs(string size)
    {
        Directory.CreateDirectory(Path);
        var error = Mount("-t", "tmpfs", "-o", "size=" + size, "tmpfs", Path);
        Assert.True(error is null, error);
    }

    public long UsedBytes
    {
        get
        {
            var d = new DriveInfo(Path);
            return d.TotalSize - d.TotalFreeSpace;
        }
    }

    public void Remount(string options)
    {
        var error = Mount("-o", "remount," + options, Path);
        Assert.True(error is null, error);
    }

    /// <summary>Null when mount(8) succeeded, else what it said.</summary>
    public static string? Mount(params string[] args) => Command("mount", args);

    public void Dispose()
    {
        Command("umount", Path);
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }

    private static string? Command(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"{file} {string.Join(' ', args)}: exit code {p.ExitCode}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e) { return $"{file}: {e.Message}"; }
    }

    /// <summary>Why a tmpfs cannot be mounted here (not root, no CAP_SYS_ADMIN, no mount(8)), or null.</summary>
    public static readonly Lazy<string?> UnavailableReason = new(() =>
    {
        var probe = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "genlab-tmpfs-probe-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(probe);
        try
        {
            var error = Mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", probe);
            if (error is null) Command("umount", probe);
            return error;
        }
        finally { Directory.Delete(probe); }
    });
}

public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.UnavailableReason.Value is { } reason) Skip = "cannot mount a tmpfs here: " + reason;
    }
}
