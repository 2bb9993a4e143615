using System.Text.Json;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.IO;
using Lab.Core.Logging;
using Lab.Core.Nn;
using Lab.Experiments.Logging;
using Microsoft.Extensions.Logging;
using System.CommandLine;
using System.CommandLine.Parsing;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Experiments.Output;
using Lab.Figures;
using Lab.Figures.Animation;

namespace Lab.Experiments;

/// <summary>
/// What an experiment runs with: options, seed, device, and an output folder. Results are written to a
/// staging folder beside the final one and swapped in only when the experiment succeeds (<see cref="OutputFolder"/>),
/// so a failed or killed run leaves earlier results untouched, and a folder GenLab did not write is never replaced.
/// </summary>
public sealed partial class ExperimentContext : IDisposable
{
    private readonly Dictionary<string, object> _metrics = [];
    private readonly ParseResult _options;
    private readonly HashSet<string> _read = [];
    private readonly ulong? _seedOverride;
    private OutputFolder? _folder;
    private RunLog? _log;
    private ILogger? _logger;

    /// <summary>Reads the parsed options; touches no file (see <see cref="Open"/>).</summary>
    /// <param name="outDir">The output folder instead of --out's.</param>
    /// <param name="seed">One seed of a multi-seed run (<see cref="MultiSeed.SeedRuns"/>): the run's seed instead of --seed,
    /// and the run is a single one whatever --seeds or --repeat say.</param>
    public ExperimentContext(string name, ParseResult options, TextWriter output, string? outDir = null, ulong? seed = null)
    {
        Name = name;
        _options = options;
        _seedOverride = seed;
        var dir = outDir ?? Get(CommonOptions.Out) ?? Path.Combine("results", name);
        FinalDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        // A root has no parent; OutputFolder refuses it as an output folder before anything is cached.
        CacheDir = Path.Combine(Path.GetDirectoryName(FinalDir) ?? FinalDir, "cache");
        Seed = seed ?? (ulong)Get(CommonOptions.Seed);
        var seeds = MultiSeed.SeedList.Of(this);
        Seeds = seed is null ? seeds : null;
        Quick = Get(CommonOptions.Quick);
        Device = Device.Parse(Get(CommonOptions.Device));
        if (Get(CommonOptions.Distributed)) JoinRanks();   // may change Device to this rank's GPU
        Output = IsRoot ? output : TextWriter.Null;   // progress and logs from rank 0 only
        DetectAnomaly = Get(CommonOptions.DetectAnomaly) || Environment.GetEnvironmentVariable(DetectAnomalyVariable) is "1" or "true";
        Video = Get(CommonOptions.Video) switch { "mp4" => VideoFormat.Mp4, "gif" => VideoFormat.FfmpegGif, _ => VideoFormat.ManagedGif };
        // The run's own flow of execution only (see Anomaly): tests running experiments side by side stay apart.
        Anomaly.Enabled = DetectAnomaly;
    }

    /// <summary>Takes the output folder (lock, recovery, the check that it is GenLab's) and starts the run log in its staging folder.</summary>
    public void Open()
    {
        if (!IsRoot) { OpenScratch(); return; }
        _folder = OutputFolder.Open(FinalDir, new RunManifest { Experiment = Name, Options = Arguments });
        _log = RunLog.Create(StagingDir);
        _logger = _log.Factory.CreateLogger("Lab.Experiments." + Name);
        _logger.LogInformation("{Experiment} started with {Arguments}", Name, Arguments);
        foreach (var note in _folder.Recovered) _logger.LogInformation("recovery: {Note}", note);
        // Which options the run consulted, each once: an option listed in --help that no run reads does nothing.
        foreach (var option in _read) LogOptionRead(option);
    }

    /// <summary>
    /// The options as given on the command line (after the experiment's name); for one seed of a multi-seed run, without
    /// --seeds, --repeat, --seed and --out, and with that seed's --seed: what repeats this seed alone.
    /// </summary>
    public string Arguments
    {
        get
        {
            var tokens = _options.Tokens.Skip(1).ToList();
            if (_seedOverride is not ulong seed) return string.Join(" ", tokens.Select(t => t.Value));
            var kept = new List<string>();
            string[] dropped = [CommonOptions.Seeds.Name, CommonOptions.Repeat.Name, CommonOptions.Seed.Name, CommonOptions.Out.Name];
            for (int i = 0; i < tokens.Count; i++)
            {
                if (tokens[i].Type == TokenType.Option && dropped.Contains(tokens[i].Value))
                {
                    while (i + 1 < tokens.Count && tokens[i + 1].Type == TokenType.Argument) i++;
                    continue;
                }
                kept.Add(tokens[i].Value);
            }
            return string.Join(" ", [.. kept, CommonOptions.Seed.Name, seed.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
    }

    /// <summary>The parsed command line (a multi-seed run hands it to each seed's context).</summary>
    public ParseResult Options => _options;

    /// <summary>
    /// An option's value: as given, else its quick-mode default under --quick (where it has one), else its default.
    /// The run log records the first read of each option.
    /// </summary>
    public T Get<T>(Option<T> option)
    {
        Read(option);
        if (Given(option)) return _options.GetValue(option)!;
        if (_options.GetValue(CommonOptions.Quick) && Define.TryQuickDefault(option, out var quick)) return quick;
        return _options.GetValue(option)!;
    }

    /// <summary>Whether the command line gave <paramref name="option"/> (counts as a read of it).</summary>
    public bool Given(Option option)
    {
        Read(option);
        return _options.GetResult(option) is { Implicit: false };
    }

    /// <summary>The text given for <paramref name="option"/> on the command line, or null.</summary>
    public string? GivenText(Option option) =>
        _options.GetResult(option) is { Implicit: false } r ? string.Join(" ", r.Tokens.Select(t => t.Value)) : null;

    /// <summary>The options the run has asked about so far, given or not.</summary>
    public IReadOnlyCollection<string> ReadNames => _read;

    private void Read(Option option)
    {
        if (_read.Add(option.Name)) LogOptionRead(option.Name);
    }

    /// <summary>The environment variable that turns on anomaly mode like --detect-anomaly (GENLAB_DETECT_ANOMALY=1).</summary>
    public const string DetectAnomalyVariable = "GENLAB_DETECT_ANOMALY";

    private void LogOptionRead(string name)
    {
        if (_logger is null) return;
        var option = _options.CommandResult.Command.Options.FirstOrDefault(o => o.Name == name);
        var given = option is null ? null : _options.GetResult(option) is { Implicit: false } r ? string.Join(" ", r.Tokens.Select(t => t.Value)) : null;
        _logger.LogDebug("option {Option} read: {Value}", name.TrimStart('-'), given is null ? "default" : given.Length == 0 ? "set" : given);
    }

    public string Name { get; }
    public TextWriter Output { get; }
    public string FinalDir { get; }
    /// <summary>Where files go while the experiment runs (see the class summary).</summary>
    public string StagingDir => Scratch ?? _folder?.StagingDir ?? throw new InvalidOperationException("the output folder is not open yet (call Open).");
    /// <summary>Where the digits classifier is cached: beside the output folder (results/cache), or beside the multi-seed run's.</summary>
    public string CacheDir { get; init; }
    public ulong Seed { get; }
    /// <summary>The seeds of a multi-seed run (--seeds, --repeat; see <see cref="MultiSeed.SeedRuns"/>), null for a single run.</summary>
    public IReadOnlyList<ulong>? Seeds { get; }
    public bool Quick { get; }
    public Device Device { get; private set; }
    /// <summary>Every op checks its result for NaN or infinity (--detect-anomaly or GENLAB_DETECT_ANOMALY=1; slow).</summary>
    public bool DetectAnomaly { get; }
    public IReadOnlyDictionary<string, object> Metrics => _metrics;

    /// <summary>The seed recipe's epoch count unless --epochs says otherwise (1 in quick mode).</summary>
    public int Epochs(int recipe) => Get(CommonOptions.Epochs) ?? (Quick ? 1 : recipe);

    /// <summary>
    /// What a NaN or infinity message adds after its location (see <see cref="NonFinite"/>): the experiment, the
    /// options given on the command line that probably caused it, and how to find the op, e.g. "of score: the
    /// learning rate 1e9 (--lr) is probably too high; rerun with --detect-anomaly to find the op".
    /// </summary>
    /// <param name="suspects">Options whose large values make training or sampling diverge, with what they are.</param>
    public string NonFiniteHint(params (Option Option, string What)[] suspects)
    {
        var given = suspects.Where(s => GivenText(s.Option) is not null).Select(s => $"{s.What} {GivenText(s.Option)} ({s.Option.Name})").ToList();
        var parts = new List<string>();
        if (given.Count > 0) parts.Add($"{string.Join(" or ", given)} {(given.Count == 1 ? "is" : "are")} probably too high");
        if (!DetectAnomaly) parts.Add("rerun with --detect-anomaly to find the op");
        return parts.Count == 0 ? $"of {Name}" : $"of {Name}: {string.Join("; ", parts)}";
    }

    /// <summary>A generator for one purpose, derived from the run's seed and a stream number.</summary>
    public Generator Rng(ulong stream) => new(Seed * 1_000_003UL + stream);

    public string PathFor(string file) => Path.Combine(StagingDir, file);

    /// <summary>The run's log: a JSON-lines file in the output folder, written by Serilog (the console shows progress itself).</summary>
    public ILogger Logger => _logger ?? throw new InvalidOperationException("the run log is not open yet (call Open).");

    /// <summary>The factory behind <see cref="Logger"/>, for library code that logs through Microsoft.Extensions.Logging.</summary>
    public ILoggerFactory LoggerFactory => !IsRoot ? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance : _log?.Factory ?? throw new InvalidOperationException("the run log is not open yet (call Open).");

    /// <summary>Prints a line and records it in the run log.</summary>
    public void Log(string message)
    {
        Output.WriteLine(message);
        _logger?.LogInformation("{Message}", message);
    }

    /// <summary>Prints a model summary as a table (Spectre.Console) and records it in the run log.</summary>
    public void Log(ModelSummary summary) => Log(SummaryTable.Render(summary));

    /// <summary>Training callbacks every experiment gets: a CSV log and TensorBoard event files in the output folder.</summary>
    public Callback[] StandardCallbacks(string prefix = "") => !IsRoot ? [] :
        [new CsvLogger(PathFor(prefix + "training_log.csv")), new TensorBoardCallback(PathFor(Path.Combine("tensorboard", prefix.TrimEnd('_')))),
         new EpochLogger(LoggerFactory.CreateLogger<Trainer>())];

    public void Metric(string name, object value) => _metrics[name] = value;

    public void WriteText(string file, string text)
    {
        if (IsRoot) AtomicFile.WriteAllText(PathFor(file), text);
    }

    /// <summary>A CSV with a header row; numbers in invariant culture, round-trippable.</summary>
    public void WriteCsv(string file, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<double>> rows)
    {
        if (IsRoot) CsvWriter.Write(PathFor(file), header, rows);
    }

    /// <summary>Saves a figure as name.png and name.svg.</summary>
    public void SaveFigure(Figure figure, string name)
    {
        if (IsRoot) figure.Save(PathFor(name + ".png"));
    }

    /// <summary>How animations are written (--video gif|mp4 through ffmpeg; GenLab's own GIF encoder without the option).</summary>
    public VideoFormat Video { get; }

    /// <summary>Saves frames as name.gif, or name.mp4 with --video mp4 (4 frames per second by default). Where ffmpeg is
    /// missing, one line says what to install and GenLab's own GIF is written.</summary>
    public void SaveAnimation(string name, IEnumerable<Figure> frames, int delayCentiseconds = 25)
    {
        if (IsRoot) Animations.Save(PathFor(name), frames, Video, delayCentiseconds, Log);
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

    /// <summary>Writes metrics.json and swaps the staging folder into place (replacing the previous results).</summary>
    public void Commit()
    {
        if (!IsRoot) { DropScratch(); return; }
        if (DataParallel is { } parallel) _metrics["ranks"] = parallel.Size;
        _metrics["experiment"] = Name;
        _metrics["seed"] = Seed;
        _metrics["device"] = Device.ToString();
        _metrics["quick"] = Quick;
        Logger.LogInformation("metrics {@Metrics}", _metrics);
        // Disposing flushes the log; on a full disk that throws, and the run fails like any other write.
        _log!.Dispose();
        WriteText("metrics.json", JsonSerializer.Serialize(new SortedDictionary<string, object>(_metrics), JsonOptions));
        _folder!.Commit();
    }

    /// <summary>
    /// After a failure: records it with its stack trace in the run log, discards the staging folder and keeps the log
    /// beside the output folder (unless <paramref name="keepLog"/> is false: a bad option found late needs no stack). Never throws (a full disk may refuse even the log); returns where the log is, or null.
    /// </summary>
    public string? Abandon(Exception failure, bool keepLog = true)
    {
        DropScratch();
        if (_folder is null) return null;
        try
        {
            _logger?.LogError(failure, "{Experiment} failed", Name);
            _log?.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException) { }
        return _folder.Abandon(keepLog ? RunLog.FileName : null);
    }

    public void Dispose()
    {
        DropScratch();
        if (DataParallel is not null) Communicator.Dispose();   // MPI_Finalize: every rank, once, at the end
        try { _log?.Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _folder?.Dispose();
    }
}
