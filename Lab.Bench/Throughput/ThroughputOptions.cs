using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Lab.Bench.Throughput;

/// <summary>
/// The command line of <c>throughput</c>: each option typed and defined once (System.CommandLine), its default shown
/// in --help and its bounds checked while parsing. <see cref="Parse"/> throws ArgumentException naming the option and
/// the value, with a usage hint.
/// </summary>
public sealed record ThroughputOptions
{
    public IReadOnlyList<string> Devices { get; init; } = ["cpu"];
    public IReadOnlyList<Workload> Workloads { get; init; } = Workload.All;
    public double Seconds { get; init; } = 5;
    public double WarmupSeconds { get; init; } = 1;
    public bool Json { get; init; }
    public bool ComparePyTorch { get; init; }
    /// <summary>The TorchSharp peer beside GenLab (bench/torchsharp; <c>--compare torchsharp</c>).</summary>
    public bool CompareTorchSharp { get; init; }
    /// <summary>The peers measured beside GenLab, in the table's order ("pytorch", "torchsharp").</summary>
    public IReadOnlyList<string> Peers => [.. (ComparePyTorch ? ["pytorch"] : Array.Empty<string>()), .. (CompareTorchSharp ? ["torchsharp"] : Array.Empty<string>())];
    public bool Profile { get; init; }
    /// <summary>Also measure each workload through a traced step (record once, replay), as the "GenLab traced" column.</summary>
    public bool Traced { get; init; }
    /// <summary>Overrides every workload's batch size (the seeds' sizes otherwise).</summary>
    public int? Batch { get; init; }
    /// <summary>Where results/bench/ files go; null writes nothing (quick runs with --no-save).</summary>
    public bool Save { get; init; } = true;
    /// <summary>Alternating rounds per workload (GenLab, then each peer, repeated); the tables report the median with min–max.</summary>
    public int Rounds { get; init; } = 3;
    public const int MaxRounds = 50;

    /// <summary>Bounds checked before any work: a batch past this would ask for gigabytes per step (mnist_cnn at 4096 is ~0.4 GB
    /// of activations), and a window past an hour per workload is a typo, not a measurement.</summary>
    public const int MaxBatch = 4096;
    public const double MinSeconds = 0.01, MaxSeconds = 3600;

    private static readonly ThroughputOptions Defaults = new();

    public static readonly Option<IReadOnlyList<string>> DeviceOption = new("--device")
    {
        Description = "where to measure (all: the CPU, then CUDA)",
        HelpName = "cpu|cuda|all",
        DefaultValueFactory = _ => Defaults.Devices,
        CustomParser = r => Value(r) switch
        {
            null => Defaults.Devices,
            var d => d.ToLowerInvariant() switch
            {
                "cpu" => ["cpu"],
                "cuda" or "gpu" => ["cuda"],
                "all" => ["cpu", "cuda"],
                _ => Error(r, $"throughput: --device expects cpu, cuda or all, got '{d}'.", Defaults.Devices),
            },
        },
    };

    public static readonly Option<IReadOnlyList<Workload>?> WorkloadsOption = new("--workloads")
    {
        Description = "the workloads to measure: " + string.Join(", ", Workload.All.Select(w => w.Name)) + " [default: all of them]",
        HelpName = "a,b,...",
        CustomParser = r =>
        {
            if (Value(r) is not string v) return Defaults.Workloads;
            var names = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) return Error(r, "throughput: --workloads lists no workload.", Defaults.Workloads);
            try { return names.Select(Workload.Find).Distinct().ToArray(); }
            catch (ArgumentException e) { return Error(r, $"throughput: --workloads: {e.Message}", Defaults.Workloads); }
        },
    };

    public static readonly Option<double> SecondsOption = SecondsLike("--seconds", "measured seconds per workload and device", Defaults.Seconds);
    public static readonly Option<double> WarmupOption = SecondsLike("--warmup", "warm-up seconds before measuring", Defaults.WarmupSeconds);

    public static readonly Option<int?> BatchOption = new("--batch")
    {
        Description = "one batch size for every workload [default: each seed's own]",
        HelpName = "N",
        CustomParser = r =>
        {
            if (Value(r) is not string b) return null;
            return int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out int batch) && batch is >= 1 and <= MaxBatch
                ? batch
                : Error<int?>(r, $"throughput: --batch expects a positive integer up to {MaxBatch}, got '{b}'.", null);
        },
    };

    public static readonly Option<int> RoundsOption = new("--rounds")
    {
        Description = "alternating rounds per workload (GenLab, then each peer, repeated); tables show the median with min–max",
        HelpName = "N",
        DefaultValueFactory = _ => Defaults.Rounds,
        CustomParser = r =>
        {
            if (Value(r) is not string v) return Defaults.Rounds;
            return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= MaxRounds
                ? n
                : Error(r, $"throughput: --rounds expects an integer from 1 to {MaxRounds}, got '{v}'.", Defaults.Rounds);
        },
    };

    public static readonly Option<bool> JsonOption = new("--json") { Description = "one JSON line per result on stdout (the table goes to stderr)" };
    public static readonly Option<bool> ComparePyTorchOption = new("--compare-pytorch") { Description = "measure PyTorch's version of each workload beside GenLab's" };
    public static readonly Option<IReadOnlyList<string>> CompareOption = new("--compare")
    {
        Description = "measure these peers' versions of each workload beside GenLab's: pytorch (bench/pytorch), torchsharp (bench/torchsharp, built on first use)",
        HelpName = "pytorch,torchsharp",
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            if (Value(r) is not string v) return [];
            var names = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
            if (names.Length == 0) return Error<IReadOnlyList<string>>(r, "throughput: --compare lists no peer.", []);
            var unknown = names.FirstOrDefault(n => !Throughput.Peers.Known.Contains(n));
            return unknown is null ? names
                : Error<IReadOnlyList<string>>(r, $"throughput: --compare expects {string.Join(" or ", Throughput.Peers.Known)} (comma-separated), got '{unknown}'.", []);
        },
    };
    public static readonly Option<bool> ProfileOption = new("--profile") { Description = "also profile each workload per layer and op (results/bench/profile_*.md)" };
    public static readonly Option<bool> TracedOption = new("--traced")
    {
        Description = "also measure each workload through a traced step (Lab.Core.Tracing: recorded once, replayed), beside the eager one",
    };
    public static readonly Option<bool> NoSaveOption = new("--no-save") { Description = "write nothing under results/bench/" };

    public static readonly Option[] All =
        [DeviceOption, WorkloadsOption, SecondsOption, WarmupOption, RoundsOption, BatchOption, JsonOption, ComparePyTorchOption, CompareOption, TracedOption, ProfileOption, NoSaveOption];

    /// <summary>The `throughput` command with its options (the caller sets the action).</summary>
    public static Command Command()
    {
        var command = new Command("throughput", "training throughput of the seed workloads per device, optionally beside PyTorch and TorchSharp, saved under results/bench/");
        foreach (var option in All) command.Add(option);
        return command;
    }

    private static readonly Command Standalone = Command();

    /// <summary>The options of a parsed `throughput` command line.</summary>
    public static ThroughputOptions From(ParseResult parse) => new()
    {
        Devices = parse.GetValue(DeviceOption)!,
        Workloads = parse.GetValue(WorkloadsOption) ?? Defaults.Workloads,
        Seconds = parse.GetValue(SecondsOption),
        WarmupSeconds = parse.GetValue(WarmupOption),
        Batch = parse.GetValue(BatchOption),
        Rounds = parse.GetValue(RoundsOption),
        Json = parse.GetValue(JsonOption),
        ComparePyTorch = parse.GetValue(ComparePyTorchOption) || parse.GetValue(CompareOption)!.Contains("pytorch"),
        CompareTorchSharp = parse.GetValue(CompareOption)!.Contains("torchsharp"),
        Profile = parse.GetValue(ProfileOption),
        Traced = parse.GetValue(TracedOption),
        Save = !parse.GetValue(NoSaveOption),
    };

    /// <summary>Parses `throughput`'s arguments; throws ArgumentException naming the problem, with a usage hint.</summary>
    public static ThroughputOptions Parse(IReadOnlyList<string> args)
    {
        var parse = Standalone.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (Problem(parse) is string problem) throw new ArgumentException(problem);
        return From(parse);
    }

    /// <summary>The first problem of a parsed `throughput` command line as one line plus a usage hint, or null.</summary>
    public static string? Problem(ParseResult parse)
    {
        var valueError = parse.Errors.FirstOrDefault(e => e.SymbolResult is ArgumentResult or OptionResult);
        if (valueError?.SymbolResult is OptionResult { Tokens.Count: 0 } missing)
            return $"throughput: {missing.Option.Name} needs a value.\nusage: {Usage}";
        if (valueError is not null) return valueError.Message + (valueError.Message.Contains("needs a value") ? $"\nusage: {Usage}" : "");
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            return token.StartsWith('-')
                ? $"throughput: unknown option '{token.Split('=')[0]}'.\nusage: {Usage}"
                : $"throughput: unexpected argument '{token}'.\nusage: {Usage}";
        }
        return parse.Errors.Count > 0 ? $"throughput: {parse.Errors[0].Message}\nusage: {Usage}" : null;
    }

    /// <summary>The one-line synopsis (the full list with defaults: throughput --help).</summary>
    public static string Usage => "throughput " + string.Join(" ", All.Select(o => o.ValueType == typeof(bool) ? $"[{o.Name}]" : $"[{o.Name} {o.HelpName}]")) +
                                  "   (throughput --help lists the defaults)";

    public int BatchFor(Workload w) => Batch ?? w.DefaultBatch;

    private static Option<double> SecondsLike(string name, string description, double @default) => new(name)
    {
        Description = description,
        HelpName = "S",
        DefaultValueFactory = _ => @default,
        CustomParser = r =>
        {
            if (Value(r) is not string v) return @default;
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x >= MinSeconds && x <= MaxSeconds
                ? x
                : Error(r, $"throughput: {name} expects a positive number of seconds from {MinSeconds} to {MaxSeconds}, got '{v}'.", @default);
        },
    };

    /// <summary>
    /// The option's value, or null (with the error added) when it is missing: System.CommandLine hands an option
    /// that needs a value the next token even when that is another option (`--device --json`).
    /// </summary>
    private static string? Value(ArgumentResult r)
    {
        var value = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (value.Length > 0 && !(value.StartsWith("--", StringComparison.Ordinal) && value.Length > 2 && char.IsLetter(value[2]))) return value;
        r.AddError($"throughput: {(r.Parent as OptionResult)?.Option.Name} needs a value.");
        return null;
    }

    private static T Error<T>(ArgumentResult r, string message, T fallback)
    {
        r.AddError(message);
        return fallback;
    }
}
