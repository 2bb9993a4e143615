using System.Globalization;

namespace Lab.Experiments.Cli;

/// <summary>One option an experiment accepts: name (without dashes), value hint, help text, default shown in --help.</summary>
public sealed record OptionSpec(string Name, string Value, string Help, string? Default = null, string[]? Choices = null);

/// <summary>
/// The parsed command line: `experiment [--name value | --flag]...`. Every option must be known to the
/// experiment (or be a common one) and every value must parse, or a <see cref="UsageException"/> names it.
/// </summary>
public sealed class Options
{
    public static readonly OptionSpec[] Common =
    [
        new("out", "DIR", "output folder", "results/<experiment>"),
        new("seed", "N", "random seed", "0"),
        new("epochs", "N", "training epochs", "the seed recipe's"),
        new("device", "cpu|cuda", "where tensors live", "cpu", ["cpu", "cuda"]),
        new("quick", "", "tiny data and epochs: proves the pipeline in seconds (used by the tests)"),
        new("detect-anomaly", "", "check every op's result for NaN or infinity and name the first op that made one (slow; also GENLAB_DETECT_ANOMALY=1)"),
        new("video", "gif|mp4", "write animations through ffmpeg: a palette-optimised GIF or an H.264 MP4 (without ffmpeg: GenLab's own GIF, and a note)", "GenLab's own GIF", ["gif", "mp4"]),
        new("verbose", "", "print a failure's stack trace (it is always in the run log)"),
    ];

    private readonly Dictionary<string, string?> _values;
    private readonly string _experiment;

    private Options(string experiment, Dictionary<string, string?> values) { _experiment = experiment; _values = values; }

    public static Options Parse(string experiment, IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specific)
    {
        var known = Common.Concat(specific).ToDictionary(o => o.Name);
        var values = new Dictionary<string, string?>();
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new UsageException($"{experiment}: unexpected argument '{a}' (options look like --name value).");
            var name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (!known.TryGetValue(name, out var spec))
                throw new UsageException($"{experiment}: unknown option '--{name}'. Options: {string.Join(", ", known.Keys.Select(k => "--" + k))}.");
            if (spec.Value.Length == 0)
            {
                if (value is not null) throw new UsageException($"{experiment}: option '--{name}' takes no value.");
            }
            else if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"{experiment}: option '--{name}' needs a value ({spec.Value}).");
                value = args[++i];
            }
            if (spec.Choices is not null && !spec.Choices.Contains(value))
                throw new UsageException($"{experiment}: '--{name} {value}' is not one of {string.Join(", ", spec.Choices)}.");
            if (values.ContainsKey(name)) throw new UsageException($"{experiment}: option '--{name}' given twice.");
            values[name] = value;
        }
        return new Options(experiment, values);
    }

    public override string ToString() =>
        string.Join(" ", _values.Select(kv => kv.Value is null ? "--" + kv.Key : $"--{kv.Key} {kv.Value}"));

    /// <summary>The options the run has asked about so far, given or not.</summary>
    public IReadOnlyCollection<string> ReadNames => _read;

    /// <summary>Raised the first time the run asks about an option.</summary>
    public event Action<string>? FirstRead;

    private readonly HashSet<string> _read = [];

    private bool Get(string name, out string? value)
    {
        if (_read.Add(name)) FirstRead?.Invoke(name);
        return _values.TryGetValue(name, out value);
    }

    public bool Has(string name) => Get(name, out _);
    public bool Flag(string name) => Get(name, out _);

    public string? String(string name) => Get(name, out var v) ? v : null;
    public string String(string name, string fallback) => String(name) ?? fallback;

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
        => Get(name, out var s) && s is not null ? ParseInt(name, s, min, max) : fallback;

    /// <summary>Checks a given integer against its bounds before any work, without counting as the run's read of it.</summary>
    public void CheckInt(string name, int min, int max)
    {
        if (_values.TryGetValue(name, out var s) && s is not null) ParseInt(name, s, min, max);
    }

    private int ParseInt(string name, string s, int min, int max)
    {
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"{_experiment}: '--{name} {s}' is not an integer.");
        if (v < min || v > max) throw new UsageException($"{_experiment}: '--{name} {s}' must be between {min} and {max}.");
        return v;
    }

    public float Float(string name, float fallback, float min = float.MinValue, float max = float.MaxValue)
    {
        if (!Get(name, out var s) || s is null) return fallback;
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !float.IsFinite(v))
            throw new UsageException($"{_experiment}: '--{name} {s}' is not a number.");
        if (v < min || v > max) throw new UsageException($"{_experiment}: '--{name} {s}' must be between {min} and {max}.");
        return v;
    }

    /// <summary>A comma-separated list of numbers ("0.001,0.01,0.1,1"); "none" gives an empty list.</summary>
    public float[] FloatList(string name, float[] fallback, float min = float.MinValue, float max = float.MaxValue)
    {
        if (!Get(name, out var s) || s is null) return fallback;
        if (s.Trim() == "none") return [];
        var items = s.Split(',', StringSplitOptions.TrimEntries);
        var r = new float[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (!float.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]) || !float.IsFinite(r[i]))
                throw new UsageException($"{_experiment}: '--{name} {s}': '{items[i]}' is not a number (give a comma-separated list, or none).");
            if (r[i] < min || r[i] > max) throw new UsageException($"{_experiment}: '--{name} {s}': {items[i]} must be between {min} and {max}.");
        }
        return r;
    }
}
