using System.CommandLine;
using System.CommandLine.Parsing;

namespace Lab.Experiments.Cli;

/// <summary>
/// A command line System.CommandLine refused, as the one line GenLab prints for it (exit code 2): an unknown
/// option or word names itself and lists what the command takes, a bad value names the option and the value
/// (the message of <see cref="Define"/>'s parsers), a missing value names the option and what it wants.
/// </summary>
public static class ParseErrors
{
    /// <summary>The line for the first problem of <paramref name="parse"/>; null when it has none.</summary>
    public static string? Describe(ParseResult parse, string unknownCommand = "command")
    {
        var command = parse.CommandResult.Command;
        bool root = command is RootCommand;
        // A value problem first: an option that took the next option as its value leaves the rest unmatched.
        var valueError = parse.Errors.FirstOrDefault(e => e.SymbolResult is ArgumentResult or OptionResult);
        if (valueError is not null) return Line(command, valueError);
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            var names = command.Subcommands.Select(c => c.Name).ToList();
            if (root && !token.StartsWith('-'))
                return $"Unknown {unknownCommand} '{token}'. {char.ToUpperInvariant(unknownCommand[0])}{unknownCommand[1..]}s: {string.Join(", ", names)}. See --help.";
            if (token.StartsWith('-'))
            {
                var name = token.Split('=')[0];
                return $"{Prefix(command)}unknown option '{name}'. Options: {string.Join(", ", OptionsOf(command))}.";
            }
            return $"{Prefix(command)}unexpected argument '{token}' (options look like --name value).";
        }
        return parse.Errors.Count == 0 ? null : Line(command, parse.Errors[0]);
    }

    private static string Line(Command command, ParseError error)
    {
        var result = error.SymbolResult;
        var option = result as OptionResult ?? result?.Parent as OptionResult;
        if (option is not null && option.Tokens.Count == 0 && option.Option.Arity.MinimumNumberOfValues > 0)
            return $"{Prefix(command)}option '{option.Option.Name}' needs a value ({option.Option.HelpName ?? "a value"}).";
        // Define's parsers already name the command, the option and the value.
        var message = error.Message;
        return message.StartsWith(command.Name + ": ", StringComparison.Ordinal) ? message : Prefix(command) + message;
    }

    private static string Prefix(Command command) => command is RootCommand ? "" : command.Name + ": ";

    private static IEnumerable<string> OptionsOf(Command command) =>
        command.Options.Where(o => !o.Hidden && o.Name is not "--help").Select(o => o.Name);
}
