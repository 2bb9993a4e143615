using Lab.Core.IO;
using Lab.Experiments.Cli;

namespace Lab.Experiments.Output;

/// <summary>An output folder GenLab may not use: printed as one line, exit code 2 (or 1 when another run holds it).</summary>
public sealed class OutputFolderException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// One run's output folder <c>&lt;out&gt;</c>, replaced old-or-new.
/// <list type="number">
/// <item>Lock: one run per folder at a time (<see cref="OutputLock"/>); a second run is refused, naming the first one's PID.</item>
/// <item>Recover: whatever a dead run left beside <c>&lt;out&gt;</c> is settled. If <c>&lt;out&gt;</c> is missing and an
/// <c>&lt;out&gt;.old-PID</c> exists (a run killed between the two renames of the fallback commit), it is moved back;
/// every other <c>&lt;out&gt;.staging-PID</c> and <c>&lt;out&gt;.old-PID</c> that carries GenLab's manifest is removed. Under
/// the lock, no live run owns any of them.</item>
/// <item>Refuse: an existing <c>&lt;out&gt;</c> is replaced only when it is empty or holds only what its
/// <see cref="RunManifest"/> lists; otherwise the run stops before any work, exit code 2.</item>
/// <item>Stage: the run writes into <c>&lt;out&gt;.staging-PID</c>, marked with a "running" manifest from its first instant.</item>
/// <item>Commit: the complete manifest is written last, then the staging folder is swapped with <c>&lt;out&gt;</c> by
/// renameat2(RENAME_EXCHANGE), one atomic step, and the previous results (now under the staging name) are deleted.
/// Without the exchange: <c>&lt;out&gt;</c> → <c>&lt;out&gt;.old-PID</c>, staging → <c>&lt;out&gt;</c>, delete the old; a
/// crash between the renames leaves the complete old results in <c>.old-PID</c>, which the next run moves back first.</item>
/// </list>
/// A failed run deletes its staging folder and keeps its run log (with the stack trace) as <c>&lt;out&gt;.failed-run.log.jsonl</c>;
/// SIGINT/SIGTERM delete the staging folder (<see cref="Interruption"/>); SIGKILL leaves it to the next run's recovery.
/// </summary>
public sealed class OutputFolder : IDisposable
{
    private readonly OutputLock _lock;
    private readonly RunManifest _manifest;
    private readonly IDisposable _onSignal;
    private bool _committed;

    public string FinalDir { get; }
    public string StagingDir { get; }
    /// <summary>Where a failed run's log is kept, beside the folder it would have replaced.</summary>
    public string FailedLog => FinalDir + ".failed-run.log.jsonl";
    /// <summary>What the recovery did before this run started (for the run log).</summary>
    public IReadOnlyList<string> Recovered { get; }

    private OutputFolder(string finalDir, OutputLock outputLock, RunManifest manifest, IReadOnlyList<string> recovered)
    {
        FinalDir = finalDir;
        StagingDir = $"{finalDir}.staging-{Environment.ProcessId}";
        _lock = outputLock;
        _manifest = manifest;
        Recovered = recovered;
        // On a signal: the staging folder goes, and a file takes its name until the process ends, so that the run's
        // next write fails instead of creating the folder again.
        _onSignal = Interruption.OnSignal(
            () => { if (!_committed) Evict(StagingDir, $"{finalDir}.removing-{Environment.ProcessId}"); },
            () => { if (File.Exists(StagingDir)) File.Delete(StagingDir); });
    }

    /// <summary>Locks, recovers and checks <paramref name="dir"/>, then creates the staging folder; throws <see cref="OutputFolderException"/>.</summary>
    public static OutputFolder Open(string dir, RunManifest manifest)
    {
        var finalDir = CheckPath(dir);
        var outputLock = Lock(finalDir);
        OutputFolder? folder = null;
        try
        {
            var recovered = Recover(finalDir);
            Refuse(finalDir);
            folder = new OutputFolder(finalDir, outputLock, manifest, recovered);
            Directory.CreateDirectory(folder.StagingDir);
            manifest.Write(folder.StagingDir);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (folder is not null) folder.Dispose();
            else outputLock.Dispose();
            throw new OutputFolderException($"cannot write results to {finalDir}: {Failure.OneLine(e.Message)}", Failure.IsDiskFull(e) ? 1 : 2);
        }
        catch
        {
            if (folder is not null) folder.Dispose();
            else outputLock.Dispose();
            throw;
        }
    }

    /// <summary>The full path of an output folder that could be created; checks that need no lock.</summary>
    public static string CheckPath(string dir)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        var parent = Path.GetDirectoryName(full);
        if (parent is null) throw new OutputFolderException($"refusing to replace {full}: a file-system root cannot be an output folder.");
        for (var d = full; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(d)) throw new OutputFolderException($"cannot write results to {full}: {d} is a file, not a folder.");
        try { Directory.CreateDirectory(parent); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputFolderException($"cannot write results to {full}: {Failure.OneLine(e.Message)}", Failure.IsDiskFull(e) ? 1 : 2);
        }
        return full;
    }

    /// <summary>Refuses (exit code 2) a folder that holds anything GenLab did not write.</summary>
    public static void Refuse(string finalDir)
    {
        if (!Directory.Exists(finalDir)) return;
        var foreign = RunManifest.Foreign(finalDir);
        if (foreign.Count == 0) return;
        var hint = RunManifest.Read(finalDir) is null && File.Exists(Path.Combine(finalDir, "metrics.json"))
            ? " (results of a GenLab older than its .genlab-run.json manifest: move them away yourself)" : "";
        throw new OutputFolderException($"refusing to replace {finalDir}: it holds files GenLab did not write ({RunManifest.Sample(foreign)}){hint}.");
    }

    private static OutputLock Lock(string finalDir)
    {
        OutputLock? outputLock;
        try { outputLock = OutputLock.TryAcquire(finalDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputFolderException($"cannot lock {finalDir} against other runs: {Failure.OneLine(e.Message)}", 1);
        }
        if (outputLock is not null) return outputLock;
        var other = Leftovers(finalDir).Where(d => d.Kind == "staging").Select(d => d.Pid).FirstOrDefault(IsAlive);
        throw new OutputFolderException(
            $"another GenLab run{(other > 0 ? $" (PID {other})" : "")} is writing to {finalDir}; wait for it to finish or choose another --out.", 1);
    }

    /// <summary>Settles what dead runs left beside <paramref name="finalDir"/> (see the class summary); run under the lock.</summary>
    public static IReadOnlyList<string> Recover(string finalDir)
    {
        var notes = new List<string>();
        var leftovers = Leftovers(finalDir).Where(l => IsGenLabs(l.Path)).ToList();
        if (!Directory.Exists(finalDir) && leftovers.Where(l => l.Kind == "old").OrderByDescending(l => Directory.GetLastWriteTimeUtc(l.Path)).FirstOrDefault() is { } old)
        {
            Directory.Move(old.Path, finalDir);
            leftovers.Remove(old);
            notes.Add($"moved {old.Path} back to {finalDir} (a run was killed while replacing it)");
        }
        foreach (var l in leftovers)
        {
            DeleteTree(l.Path);
            notes.Add($"removed {l.Path}, left by a run that did not finish");
        }
        return notes;
    }

    /// <summary>Writes the complete manifest and swaps the staging folder into place (see the class summary).</summary>
    public void Commit()
    {
        _manifest.Completed(StagingDir).Write(StagingDir);
        string? previous = null;
        lock (Interruption.Gate)
        {
            if (!Interruption.Requested) previous = Swap();
        }
        // A signal came first: its handler removed the staging folder and ends the process (it needs the gate again).
        Interruption.WaitIfRequested();
        // The previous results; if deleting them fails, the next run's recovery removes them.
        if (previous is not null) DeleteTree(previous);
        try { File.Delete(FailedLog); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Puts the staging folder at <see cref="FinalDir"/>; returns where the previous results now are, if any.</summary>
    private string? Swap()
    {
        string? previous = null;
        if (Directory.Exists(FinalDir))
        {
            // A file someone put there during the run is not ours to delete: keep the old folder as it is.
            var foreign = RunManifest.Foreign(FinalDir);
            if (foreign.Count > 0)
                throw new OutputFolderException($"not replacing {FinalDir}: files GenLab did not write appeared in it during the run ({RunManifest.Sample(foreign)}).", 1);
            if (RenameExchange.TrySwap(StagingDir, FinalDir)) previous = StagingDir;
            else
            {
                previous = $"{FinalDir}.old-{Environment.ProcessId}";
                Directory.Move(FinalDir, previous);
                try { Directory.Move(StagingDir, FinalDir); }
                catch
                {
                    Directory.Move(previous, FinalDir);
                    throw;
                }
            }
        }
        else Directory.Move(StagingDir, FinalDir);
        _committed = true;
        return previous;
    }

    /// <summary>Deletes the staging folder after a failure, first keeping its run log as <see cref="FailedLog"/>; returns that path or null.</summary>
    public string? Abandon(string? logFile)
    {
        if (_committed) return null;
        string? kept = null;
        lock (Interruption.Gate)
        {
            var log = logFile is null ? null : Path.Combine(StagingDir, logFile);
            try
            {
                if (log is not null && File.Exists(log))
                {
                    File.Move(log, FailedLog, overwrite: true);
                    kept = FailedLog;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            DeleteTree(StagingDir);
        }
        return kept;
    }

    public void Dispose()
    {
        if (!_committed) DeleteTree(StagingDir);
        _onSignal.Dispose();
        _lock.Dispose();
    }

    private sealed record Leftover(string Path, string Kind, int Pid);

    /// <summary>&lt;out&gt;.staging-PID and &lt;out&gt;.old-PID folders beside <paramref name="finalDir"/>.</summary>
    private static List<Leftover> Leftovers(string finalDir)
    {
        var parent = Path.GetDirectoryName(finalDir)!;
        var prefix = Path.GetFileName(finalDir) + ".";
        if (!Directory.Exists(parent)) return [];
        var found = new List<Leftover>();
        foreach (var d in Directory.EnumerateDirectories(parent))
        {
            var name = Path.GetFileName(d);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = name[prefix.Length..];
            foreach (var kind in new[] { "staging", "old", "removing" })
                if (rest.StartsWith(kind + "-", StringComparison.Ordinal) && int.TryParse(rest[(kind.Length + 1)..], System.Globalization.NumberStyles.None, null, out var pid))
                    found.Add(new Leftover(d, kind, pid));
        }
        return found;
    }

    /// <summary>A leftover GenLab may delete: it carries the manifest, or holds nothing but a half-written one.</summary>
    private static bool IsGenLabs(string dir) =>
        RunManifest.Read(dir) is not null
        || Directory.EnumerateFileSystemEntries(dir).All(e => Path.GetFileName(e).StartsWith("." + RunManifest.FileName, StringComparison.Ordinal)
                                                               || Path.GetFileName(e) == RunManifest.FileName);

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    /// <summary>
    /// Removes a staging folder the run may still be writing into: a recursive delete can meet a file created after
    /// it listed the folder, so the folder is first renamed out of the way (atomic) and a file takes its name, which
    /// makes the run's next write fail instead of creating the folder again. A trash folder left by a kill in between
    /// is a leftover the next run removes.
    /// </summary>
    private static void Evict(string staging, string trash)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                if (Directory.Exists(staging)) Directory.Move(staging, trash);
                using (new FileStream(staging, FileMode.CreateNew)) { }
                break;
            }
            catch (IOException) { DeleteTree(trash); }   // the run recreated the folder in between, or the trash exists
        }
        for (int attempt = 0; attempt < 10 && Directory.Exists(trash); attempt++) DeleteTree(trash);
    }

    private static void DeleteTree(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
