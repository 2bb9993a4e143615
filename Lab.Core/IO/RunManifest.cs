using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lab.Core.IO;

/// <summary>
/// <c>.genlab-run.json</c>: the mark that a folder is GenLab's. It says which run wrote the folder (experiment,
/// options, commit, time, GenLab version) and lists the top-level names the run wrote; a folder is replaced
/// only when it is empty or carries this file and holds nothing else (<see cref="Foreign"/>).
/// </summary>
public sealed record RunManifest
{
    public const string FileName = ".genlab-run.json";

    public string GenlabVersion { get; init; } = Version;
    public string Experiment { get; init; } = "";
    public string Options { get; init; } = "";
    public string Commit { get; init; } = SourceCommit;
    public DateTime Utc { get; init; } = DateTime.UtcNow;
    /// <summary>"running" while the run writes its staging folder, "complete" once every file is written.</summary>
    public string State { get; init; } = "running";
    /// <summary>Top-level files and folders (a trailing '/') the run wrote; everything inside a listed folder is the run's.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>GenLab's version, without the commit the build appends.</summary>
    public static string Version => Informational.Split('+')[0];

    /// <summary>The commit the program was built from (the SDK stamps it into the informational version), or "unknown".</summary>
    public static string SourceCommit => Informational.Split('+') is [_, var sha, ..] && sha.Length > 0 ? sha : "unknown";

    private static string Informational =>
        typeof(RunManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The manifest with the folder's current top-level entries listed and the state "complete".</summary>
    public RunManifest Completed(string dir) => this with { State = "complete", Utc = DateTime.UtcNow, Files = TopLevel(dir) };

    public void Write(string dir) => AtomicFile.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>The folder's manifest, or null when it has none (or a file of that name that is not one).</summary>
    public static RunManifest? Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var m = JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(path), Json);
            return m is { GenlabVersion.Length: > 0, Experiment.Length: > 0 } ? m : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The top-level entries of <paramref name="dir"/> that GenLab did not write: all of them when the folder has no
    /// manifest, else those its manifest does not list. Empty for an empty folder and for a folder wholly GenLab's.
    /// </summary>
    public static IReadOnlyList<string> Foreign(string dir)
    {
        var entries = TopLevel(dir);
        if (entries.Count == 0) return [];
        var manifest = Read(dir);
        if (manifest is null) return entries;
        var listed = manifest.Files.ToHashSet(StringComparer.Ordinal);
        listed.Add(FileName);
        return entries.Where(e => !listed.Contains(e)).ToList();
    }

    /// <summary>"a, b, c and 12 more" for a message.</summary>
    public static string Sample(IReadOnlyList<string> names, int shown = 3) =>
        string.Join(", ", names.Take(shown)) + (names.Count > shown ? $" and {names.Count - shown} more" : "");

    /// <summary>Top-level names, folders with a trailing '/', in ordinal order (the manifest itself excluded).</summary>
    private static List<string> TopLevel(string dir) =>
        new DirectoryInfo(dir).EnumerateFileSystemInfos()
            .Select(i => i is DirectoryInfo ? i.Name + "/" : i.Name)
            .Where(n => n != FileName)
            .Order(StringComparer.Ordinal)
            .ToList();
}
