using System.Globalization;

namespace Lab.Bench;

/// <summary>A command line that cannot work (unknown command, word or option, a value out of bounds): one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The words and key=value settings of the tuning commands (gemm-quick, conv-quick), checked before any work.</summary>
public static class TuningArgs
{
    /// <summary>Throws when an argument is neither one of <paramref name="words"/> nor key=value with a key in <paramref name="keys"/>.</summary>
    public static void Check(string command, string usage, IReadOnlyList<string> args, IEnumerable<string> words, IEnumerable<string> keys)
    {
        var known = words.ToHashSet(StringComparer.Ordinal);
        var settings = keys.ToHashSet(StringComparer.Ordinal);
        foreach (var a in args)
        {
            int eq = a.IndexOf('=');
            if (eq > 0 ? !settings.Contains(a[..eq]) : !known.Contains(a))
                throw new UsageException($"{command}: unknown argument '{a}'. usage: {command} {usage}");
        }
    }

    /// <summary>The value of key=value as an integer within [min, max].</summary>
    public static long Value(string command, string arg, long min, long max)
    {
        var text = arg[(arg.IndexOf('=') + 1)..];
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"{command}: '{arg}' needs an integer from {min} to {max}.");
        return v;
    }
}
