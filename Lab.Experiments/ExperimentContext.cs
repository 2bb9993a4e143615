using System.Text.Json;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Imaging;
using Lab.Core.IO;
using Lab.Core.Logging;
using Lab.Core.Training;
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
        // Options first: a bad value must not leave a staging folder behind.
        Seed = (ulong)options.Int("seed", 0, min: 0);
        Quick = options.Flag("quick");
        Device = Device.Parse(options.String("device", "cpu"));
        DetectAnomaly = options.Flag("detect-anomaly") || Environment.GetEnvironmentVariable(DetectAnomalyVariable) is "1" or "true";
        // The run's own flow of execution only (see Anomaly): tests running experiments side by side stay apart.
        Anomaly.Enabled = DetectAnomaly;
        StagingDir = FinalDir.TrimEnd(Path.DirectorySeparatorChar) + $".staging-{Environment.ProcessId}";
        if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true);
        Directory.CreateDirectory(StagingDir);
        _logger = RunLog.Create(StagingDir, console: false);
        _logger.Information("{Experiment} started with {Arguments}", name, options.ToString());
        // Which options the run consulted, each once: an option listed in --help that no run reads does nothing.
        foreach (var option in options.ReadNames) LogOptionRead(option);
        options.FirstRead += LogOptionRead;
    }

    /// <summary>The environment variable that turns on anomaly mode like --detect-anomaly (GENLAB_DETECT_ANOMALY=1).</summary>
    public const string DetectAnomalyVariable = "GENLAB_DETECT_ANOMALY";

    private void LogOptionRead(string option) =>
        _logger.Debug("option {Option} read: {Value}", option, Options.Has(option) ? Options.String(option) ?? "set" : "default");

    private readonly Serilog.Core.Logger _logger;

    public string Name { get; }
    public Options Options { get; }
    public TextWriter Output { get; }
    public string FinalDir { get; }
    /// <summary>Where files go while the experiment runs (see the class summary).</summary>
    public string StagingDir { get; }
    public ulong Seed { get; }
    public bool Quick { get; }
    public Device Device { get; }
    /// <summary>Every op checks its result for NaN or infinity (--detect-anomaly or GENLAB_DETECT_ANOMALY=1; slow).</summary>
    public bool DetectAnomaly { get; }
    public IReadOnlyDictionary<string, object> Metrics => _metrics;

    /// <summary>The seed recipe's epoch count unless --epochs says otherwise (1 in quick mode).</summary>
    public int Epochs(int recipe) => Options.Int("epochs", Quick ? 1 : recipe, min: 1, max: 100_000);

    /// <summary>
    /// What a NaN or infinity message adds after its location (see <see cref="NonFinite"/>): the experiment, the
    /// options given on the command line that probably caused it, and how to find the op, e.g. "of score: the
    /// learning rate 1e9 (--lr) is probably too high; rerun with --detect-anomaly to find the op".
    /// </summary>
    /// <param name="suspects">Options whose large values make training or sampling diverge, with what they are.</param>
    public string NonFiniteHint(params (string Option, string What)[] suspects)
    {
        var given = suspects.Where(s => Options.Has(s.Option)).Select(s => $"{s.What} {Options.String(s.Option)} (--{s.Option})").ToList();
        var parts = new List<string>();
        if (given.Count > 0) parts.Add($"{string.Join(" or ", given)} {(given.Count == 1 ? "is" : "are")} probably too high");
        if (!DetectAnomaly) parts.Add("rerun with --detect-anomaly to find the op");
        return parts.Count == 0 ? $"of {Name}" : $"of {Name}: {string.Join("; ", parts)}";
    }

    /// <summary>A generator for one purpose, derived from the run's seed and a stream number.</summary>
    public Generator Rng(ulong stream) => new(Seed * 1_000_003UL + stream);

    public string PathFor(string file) => Path.Combine(StagingDir, file);

    /// <summary>The run's log: Serilog, a JSON-lines file in the output folder (the console shows progress itself).</summary>
    public Serilog.ILogger Logger => _logger;

    /// <summary>Prints a line and records it in the run log.</summary>
    public void Log(string message)
    {
        Output.WriteLine(message);
        _logger.Information("{Message}", message);
    }

    /// <summary>Training callbacks every experiment gets: a CSV log and TensorBoard event files in the output folder.</summary>
    public Callback[] StandardCallbacks(string prefix = "") =>
        [new CsvLogger(PathFor(prefix + "training_log.csv")), new TensorBoardCallback(PathFor(Path.Combine("tensorboard", prefix.TrimEnd('_'))))];

    public void Metric(string name, object value) => _metrics[name] = value;

    public void WriteText(string file, string text) => AtomicFile.WriteAllText(PathFor(file), text);

    /// <summary>A CSV with a header row; numbers in invariant culture, round-trippable.</summary>
    public void WriteCsv(string file, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<double>> rows)
        => CsvWriter.Write(PathFor(file), header, rows);

    /// <summary>Saves a figure as name.png and name.svg (SVG only, with a note in the log, where Cairo is missing).</summary>
    public void SaveFigure(Figure figure, string name)
    {
        var result = figure.Save(PathFor(name + ".png"));
        if (result.Problem is not null) Log($"{name}: SVG only ({result.Problem})");
    }

    /// <summary>Saves frames as name.gif (default 4 frames per second).</summary>
    public void SaveGif(string name, IEnumerable<Figure> frames, int delayCentiseconds = 25)
    {
        var result = Animation.SaveGif(PathFor(name + ".gif"), frames, delayCentiseconds);
        if (result.Problem is not null) Log($"{name}.gif not written ({result.Problem})");
    }

    public void WriteHistory(Core.Training.History history, string file = "history.csv")
    {
        var keys = history.Values.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        WriteCsv(file, ["epoch", .. keys],
            history.Epochs.Select((e, i) => (IReadOnlyList<double>)[e + 1, .. keys.Select(k => history.Values[k][i])]));
    }

    // NaN (e.g. a mean over no successful attacks) is written as "NaN" rather than failing the whole run.
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes metrics.json and moves the staging folder into place (replacing the previous results).</summary>
    public void Commit()
    {
        _metrics["experiment"] = Name;
        _metrics["seed"] = Seed;
        _metrics["device"] = Device.ToString();
        _metrics["quick"] = Quick;
        _logger.Information("metrics {@Metrics}", _metrics);
        _logger.Dispose();
        WriteText("metrics.json", JsonSerializer.Serialize(new SortedDictionary<string, object>(_metrics), JsonOptions));
        var old = FinalDir.TrimEnd(Path.DirectorySeparatorChar) + $".old-{Environment.ProcessId}";
        if (Directory.Exists(FinalDir)) Directory.Move(FinalDir, old);
        Directory.Move(StagingDir, FinalDir);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>Discards the staging folder after a failure.</summary>
    public void Abandon()
    {
        _logger.Dispose();
        try { if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true); }
        catch (IOException) { }
    }
}
