using System.CommandLine.Parsing;
using Lab.Experiments.Cli;

namespace Lab.Experiments.MultiSeed;

/// <summary>
/// The seeds of a multi-seed run: `--seeds 0,1,2`, or `--repeat N` for --seed, --seed + 1, ..., --seed + N - 1.
/// Neither given: a single run (null), laid out as it always was. Each list's values are checked by its option's
/// parser (<see cref="Define.OptionalIntList"/>); how the options go together is checked here, while parsing.
/// </summary>
public static class SeedList
{
    /// <summary>A command's validator: --seeds with --repeat or with --seed, and a --repeat past the largest seed, are one line and exit code 2.</summary>
    public static void Validate(CommandResult command)
    {
        bool seeds = Given(command, CommonOptions.Seeds), repeat = Given(command, CommonOptions.Repeat);
        var name = command.Command.Name;
        if (seeds && repeat) command.AddError($"{name}: give --seeds or --repeat, not both.");
        else if (seeds && Given(command, CommonOptions.Seed))
            command.AddError($"{name}: give --seed or --seeds, not both (--seeds lists every seed to run).");
        else if (repeat && Value(command, CommonOptions.Repeat) is int n && Value(command, CommonOptions.Seed) is int first && (long)first + n - 1 > int.MaxValue)
            command.AddError($"{name}: '--repeat {n}' from --seed {first} goes past the largest seed {int.MaxValue}.");
    }

    /// <summary>The option's value, or null when its own parser refused it (that error is the one reported).</summary>
    private static int? Value<T>(CommandResult command, System.CommandLine.Option<T> option)
    {
        try { return command.GetValue(option) is int v ? v : null; }
        catch (InvalidOperationException) { return null; }
    }

    /// <summary>The seeds the run asks for, in order, or null for a single run.</summary>
    public static IReadOnlyList<ulong>? Of(ExperimentContext ctx)
    {
        // An array option not given reads as an empty array, not null.
        if (ctx.Given(CommonOptions.Seeds) && ctx.Get(CommonOptions.Seeds) is { Length: > 0 } list) return [.. list.Select(s => (ulong)s)];
        _ = ctx.Get(CommonOptions.Seeds);
        if (ctx.Get(CommonOptions.Repeat) is not int n) return null;
        ulong first = (ulong)ctx.Get(CommonOptions.Seed);
        return [.. Enumerable.Range(0, n).Select(i => first + (ulong)i)];
    }

    private static bool Given(CommandResult command, System.CommandLine.Option option) => command.GetResult(option) is { Implicit: false };
}
