using Lab.Core.IO;

namespace Lab.Bench.Throughput;

/// <summary>
/// results/bench is written file by file (throughput.*, bdn/), never replaced whole; a file there is overwritten only
/// when the folder's <see cref="RunManifest"/> lists it, so a user's folder or file of the same name is refused before any
/// measurement, and anything else in the folder is left alone.
/// </summary>
public static class BenchFolder
{
    /// <summary>Throws <see cref="UsageException"/> when one of <paramref name="names"/> exists in <paramref name="dir"/> and GenLab did not write it.</summary>
    public static void Refuse(string dir, IReadOnlyList<string> names)
    {
        if (File.Exists(dir)) throw new UsageException($"cannot write results to {dir}: it is a file, not a folder.");
        if (!Directory.Exists(dir)) return;
        var listed = RunManifest.Read(dir)?.Files ?? [];
        var foreign = names.Where(n => Exists(Path.Combine(dir, n)) && !listed.Contains(n)).ToList();
        if (foreign.Count > 0)
            throw new UsageException($"refusing to replace files in {dir}: GenLab did not write {RunManifest.Sample(foreign)} (no {RunManifest.FileName} lists them).");
    }

    /// <summary>Adds <paramref name="names"/> to the folder's manifest (creating it), after they were written.</summary>
    public static void Mark(string dir, string command, IEnumerable<string> names)
    {
        var previous = RunManifest.Read(dir);
        var files = (previous?.Files ?? []).Union(names).Order(StringComparer.Ordinal).ToList();
        new RunManifest { Experiment = "bench", Options = command, State = "complete", Files = files }.Write(dir);
    }

    private static bool Exists(string path) => path.EndsWith('/') ? Directory.Exists(path) : File.Exists(path) || Directory.Exists(path);
}
