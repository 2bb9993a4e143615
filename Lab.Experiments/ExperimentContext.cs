using System.Globalization;
using System.Text;
using System.Text.Json;
using Lab.Core;
using Lab.Core.IO;
using Lab.Experiments.Cli;

namespace Lab.Experiments;

/// <summary>
/// What an experiment runs with: options, seed, device, and an output folder. Results are written to a
/// staging folder beside the final one and swapped in only when the experiment succeeds, so a failed run
/// leaves earlier results untouched.
/// </summary>
public sealed class ExperimentContext
{
    private readonly Dictionary<string, object> _metrics = [];

    public ExperimentContext(string name, Options options, TextWriter output, string? outDir = null)
    {
        Name = name;
        Options = options;
        Output = output;
        FinalDir = Path.GetFullPath(outDir ?? options.String("out") ?? Path.Combine("results", name));
        StagingDir = FinalDir.TrimEnd(Path.DirectorySeparatorChar) + $".staging-{Environment.ProcessId}";
        if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true);
        Directory.CreateDirectory(StagingDir);
        Seed = (ulong)options.Int("seed", 0, min: 0);
        Quick = options.Flag("quick");
        Device = Device.Parse(options.String("device", "cpu"));
    }

    public string Name { get; }
    public Options Options { get; }
    public TextWriter Output { get; }
    public string FinalDir { get; }
    /// <summary>Where files go while the experiment runs (see the class summary).</summary>
    public string StagingDir { get; }
    public ulong Seed { get; }
    public bool Quick { get; }
    public Device Device { get; }
    public IReadOnlyDictionary<string, object> Metrics => _metrics;

    /// <summary>The seed recipe's epoch count unless --epochs says otherwise (1 in quick mode).</summary>
    public int Epochs(int recipe) => Options.Int("epochs", Quick ? 1 : recipe, min: 0, max: 100_000);

    /// <summary>A generator for one purpose, derived from the run's seed and a stream number.</summary>
    public Generator Rng(ulong stream) => new(Seed * 1_000_003UL + stream);

    public string PathFor(string file) => Path.Combine(StagingDir, file);

    public void Log(string message) => Output.WriteLine(message);

    public void Metric(string name, object value) => _metrics[name] = value;

    public void WriteText(string file, string text) => AtomicFile.WriteAllText(PathFor(file), text);

    /// <summary>A CSV with a header row; numbers in invariant culture, round-trippable.</summary>
    public void WriteCsv(string file, string header, IEnumerable<IEnumerable<double>> rows)
    {
        var sb = new StringBuilder(header).Append('\n');
        foreach (var row in rows) sb.Append(string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        WriteText(file, sb.ToString());
    }

    public void WriteHistory(Core.Training.History history, string file = "history.csv")
    {
        var keys = history.Values.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        WriteCsv(file, "epoch," + string.Join(",", keys),
            history.Epochs.Select((e, i) => new[] { (double)e + 1 }.Concat(keys.Select(k => history.Values[k][i]))));
    }

    /// <summary>Writes metrics.json and moves the staging folder into place (replacing the previous results).</summary>
    public void Commit()
    {
        _metrics["experiment"] = Name;
        _metrics["seed"] = Seed;
        _metrics["device"] = Device.ToString();
        _metrics["quick"] = Quick;
        WriteText("metrics.json", JsonSerializer.Serialize(new SortedDictionary<string, object>(_metrics), new JsonSerializerOptions { WriteIndented = true }));
        var old = FinalDir.TrimEnd(Path.DirectorySeparatorChar) + $".old-{Environment.ProcessId}";
        if (Directory.Exists(FinalDir)) Directory.Move(FinalDir, old);
        Directory.Move(StagingDir, FinalDir);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>Discards the staging folder after a failure.</summary>
    public void Abandon()
    {
        try { if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true); }
        catch (IOException) { }
    }
}
