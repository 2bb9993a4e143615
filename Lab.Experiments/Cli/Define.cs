using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Lab.Experiments.Cli;

/// <summary>
/// Typed options (System.CommandLine) defined once: name, help text, default and bounds. The default shows in
/// --help, the bounds are checked while parsing (one clear line naming the option and the value, exit code 2), and
/// the run reads the value through <see cref="ExperimentContext.Get{T}"/>. A default that depends on --quick is given as
/// <c>quick:</c> and shown in the help text. A default that depends on the run (the data, another option) is an
/// option of a nullable type with no default value: its help text says what the run takes instead.
/// </summary>
public static class Define
{
    private static readonly ConditionalWeakTable<Option, object> QuickDefaults = [];

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Int(string name, string description, int @default, int min = 0, int max = int.MaxValue, int? quick = null) =>
        WithQuick(new Option<int>(name)
        {
            Description = description + QuickNote(quick),
            HelpName = "N",
            DefaultValueFactory = _ => @default,
            CustomParser = r => ParseInt(r, min, max) ?? @default,
        }, quick);

    /// <summary>An integer option whose default the run decides (<paramref name="description"/> says which); <paramref name="quick"/> is its value under --quick.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = 0, int max = int.MaxValue, int? quick = null)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N", CustomParser = r => ParseInt(r, min, max) };
        if (quick is int q) QuickDefaults.Add(option, q);
        return option;
    }

    /// <summary>A finite number within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<float> Float(string name, string valueName, string description, float @default, float min = 0, float max = float.MaxValue) =>
        new(name)
        {
            Description = description,
            HelpName = valueName,
            DefaultValueFactory = _ => @default,
            CustomParser = r => ParseFloat(r, min, max) ?? @default,
        };

    /// <summary>A finite number whose default the run decides (<paramref name="description"/> says which).</summary>
    public static Option<float?> OptionalFloat(string name, string valueName, string description, float min = 0, float max = float.MaxValue) =>
        new(name) { Description = description, HelpName = valueName, CustomParser = r => ParseFloat(r, min, max) };

    /// <summary>A comma-separated list of numbers ("0.001,0.01,0.1,1"); "none" gives an empty list.</summary>
    public static Option<float[]> FloatList(string name, string valueName, string description, float[] @default, float min = 0, float max = float.MaxValue) =>
        NumberList(name, valueName, description, @default, min, max, NumberStyles.Float, Show,
            "is not a number (give a comma-separated list, or none)", noneIsEmpty: true, distinct: false);

    /// <summary>
    /// A comma-separated list of distinct integers within [<paramref name="min"/>, <paramref name="max"/>], at most
    /// <paramref name="maxCount"/> of them ("0,1,2"); null when not given (<paramref name="description"/> says what the run
    /// does then). <paramref name="item"/> names one entry in messages ("seed").
    /// </summary>
    public static Option<int[]?> OptionalIntList(string name, string valueName, string description, string item,
        int min = 0, int max = int.MaxValue, int maxCount = int.MaxValue) =>
        new(name)
        {
            Description = description,
            HelpName = valueName,
            CustomParser = r =>
            {
                if (Missing(r)) return null;
                var (what, s) = Given(r);
                var items = s.Split(',', StringSplitOptions.TrimEntries);
                var values = new List<int>();
                foreach (var text in items)
                {
                    if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                        return Error<int[]?>(r, $"{what}: '{text}' is not a {item} (give integers from {min} to {max} separated by commas, e.g. {min},{min + 1},{min + 2}).", null);
                    if (values.Contains(v)) return Error<int[]?>(r, $"{what}: {item} {v} is given twice.", null);
                    values.Add(v);
                }
                return values.Count > maxCount ? Error<int[]?>(r, $"{what}: at most {maxCount} {item}s.", null) : [.. values];
            },
        };

    /// <summary>A comma-separated list of whole numbers ("50,200"), each within [<paramref name="min"/>, <paramref name="max"/>], at least one.</summary>
    public static Option<int[]> IntList(string name, string valueName, string description, int[] @default, int min = 0, int max = int.MaxValue) =>
        NumberList(name, valueName, description, @default, min, max, NumberStyles.Integer, x => x.ToString(CultureInfo.InvariantCulture),
            $"is not a whole number (give a comma-separated list such as {string.Join(',', @default)})", noneIsEmpty: false, distinct: true);

    /// <summary>
    /// A comma-separated list of finite numbers within [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="notANumber"/>
    /// ends the message for an entry that does not parse. With <paramref name="noneIsEmpty"/>, "none" is the empty list; with
    /// <paramref name="distinct"/>, an entry given twice is an error.
    /// </summary>
    private static Option<T[]> NumberList<T>(string name, string valueName, string description, T[] @default, T min, T max,
        NumberStyles styles, Func<T, string> show, string notANumber, bool noneIsEmpty, bool distinct) where T : System.Numerics.INumber<T> =>
        new(name)
        {
            Description = description,
            HelpName = valueName,
            DefaultValueFactory = _ => @default,
            CustomParser = r =>
            {
                if (Missing(r)) return @default;
                var (what, s) = Given(r);
                if (noneIsEmpty && s.Trim() == "none") return [];
                var items = s.Split(',', StringSplitOptions.TrimEntries);
                var values = new T[items.Length];
                for (int i = 0; i < items.Length; i++)
                {
                    if (!T.TryParse(items[i], styles, CultureInfo.InvariantCulture, out var value) || !T.IsFinite(value))
                        return Error(r, $"{what}: '{items[i]}' {notANumber}.", @default);
                    values[i] = value;
                    if (values[i] < min || values[i] > max)
                        return Error(r, $"{what}: {items[i]} must be between {show(min)} and {show(max)}.", @default);
                    if (distinct && Array.IndexOf(values, values[i], 0, i) >= 0)
                        return Error(r, $"{what}: {items[i]} is listed twice.", @default);
                }
                return values;
            },
        };

    /// <summary>A comma-separated list of words from <paramref name="choices"/>, each at most once, at least one.</summary>
    public static Option<string[]> ChoiceList(string name, string description, string[] choices, string[] @default) =>
        new(name)
        {
            Description = description,
            HelpName = string.Join(',', choices),
            DefaultValueFactory = _ => @default,
            CustomParser = r =>
            {
                if (Missing(r)) return @default;
                var (what, s) = Given(r);
                var items = s.Split(',', StringSplitOptions.TrimEntries);
                for (int i = 0; i < items.Length; i++)
                {
                    if (!choices.Contains(items[i], StringComparer.Ordinal))
                        return Error(r, $"{what}: '{items[i]}' is not one of {string.Join(", ", choices)}.", @default);
                    if (Array.IndexOf(items, items[i], 0, i) >= 0)
                        return Error(r, $"{what}: {items[i]} is listed twice.", @default);
                }
                return items;
            },
        };

    /// <summary>One of a few words; the first of <paramref name="choices"/> is the default unless <paramref name="default"/> says otherwise.</summary>
    public static Option<string> Choice(string name, string description, string[] choices, string? @default = null)
    {
        var fallback = @default ?? choices[0];
        return new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            DefaultValueFactory = _ => fallback,
            CustomParser = r =>
            {
                if (Missing(r)) return fallback;
                var (what, s) = Given(r);
                return choices.Contains(s, StringComparer.Ordinal) ? s : Error(r, $"{what} is not one of {string.Join(", ", choices)}.", fallback);
            },
        };
    }

    /// <summary>A path or other text; null when not given (<paramref name="description"/> says what the run does then).</summary>
    public static Option<string?> OptionalText(string name, string valueName, string description) =>
        new(name)
        {
            Description = description,
            HelpName = valueName,
            CustomParser = r =>
            {
                if (Missing(r)) return null;
                var (what, s) = Given(r);
                return string.IsNullOrWhiteSpace(s) ? Error<string?>(r, $"{what} needs a value ({valueName}).", null) : s;
            },
        };

    /// <summary>A path or other text with a fixed default.</summary>
    public static Option<string> Text(string name, string valueName, string description, string @default) =>
        new(name)
        {
            Description = description,
            HelpName = valueName,
            DefaultValueFactory = _ => @default,
            CustomParser = r =>
            {
                if (Missing(r)) return @default;
                var (what, s) = Given(r);
                return string.IsNullOrWhiteSpace(s) ? Error(r, $"{what} needs a value ({valueName}).", @default) : s;
            },
        };

    /// <summary>A switch without a value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>The default in quick mode, where one was defined.</summary>
    public static bool TryQuickDefault<T>(Option<T> option, out T value)
    {
        if (QuickDefaults.TryGetValue(option, out var v)) { value = (T)v; return true; }   // a boxed int unboxes to int or int?
        value = default!;
        return false;
    }

    private static Option<int> WithQuick(Option<int> option, int? quick)
    {
        if (quick is int q) QuickDefaults.Add(option, q);
        return option;
    }

    private static string QuickNote(int? quick) => quick is int q ? $" ({q} with --quick)" : "";

    private static int? ParseInt(ArgumentResult r, int min, int max)
    {
        if (Missing(r)) return null;
        var (what, s) = Given(r);
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            return Error<int?>(r, $"{what} is not an integer.", null);
        return v < min || v > max ? Error<int?>(r, $"{what} must be between {min} and {max}.", null) : v;
    }

    private static float? ParseFloat(ArgumentResult r, float min, float max)
    {
        if (Missing(r)) return null;
        var (what, s) = Given(r);
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !float.IsFinite(v))
            return Error<float?>(r, $"{what} is not a number.", null);
        return v < min || v > max ? Error<float?>(r, $"{what} must be between {Show(min)} and {Show(max)}.", null) : v;
    }

    /// <summary>
    /// True (with the error added) when the option's value is missing: System.CommandLine hands an option that needs a
    /// value the next token even when that is another option (`--levels --quick`), which is never what was meant.
    /// </summary>
    private static bool Missing(ArgumentResult r)
    {
        var value = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (value.Length > 0 && !(value.StartsWith("--", StringComparison.Ordinal) && value.Length > 2 && char.IsLetter(value[2]))) return false;
        var option = (r.Parent as OptionResult)?.Option;
        r.AddError($"{CommandOf(r)}: option '{option?.Name ?? r.Argument.Name}' needs a value ({option?.HelpName ?? "a value"}).");
        return true;
    }

    /// <summary>"experiment: '--name value'" for a message, and the value.</summary>
    private static (string What, string Value) Given(ArgumentResult r)
    {
        var value = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        var option = (r.Parent as OptionResult)?.Option.Name ?? r.Argument.Name;
        return ($"{CommandOf(r)}: '{option} {value}'", value);
    }

    /// <summary>The name of the (sub)command a result belongs to.</summary>
    public static string CommandOf(SymbolResult r)
    {
        for (SymbolResult? s = r; s is not null; s = s.Parent)
            if (s is CommandResult c) return c.Command.Name;
        return "";
    }

    private static T Error<T>(ArgumentResult r, string message, T fallback)
    {
        r.AddError(message);
        return fallback;
    }

    private static string Show(float x) => x.ToString(CultureInfo.InvariantCulture);
}
