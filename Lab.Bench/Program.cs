using System.CommandLine;
using System.CommandLine.Help;
using BenchmarkDotNet.Running;
using Lab.Bench.Throughput;

namespace Lab.Bench;

/// <summary>
/// The benchmark command line (System.CommandLine): throughput with typed options, the tuning runs gemm-quick and
/// conv-quick with their words and key=value settings, and bdn, whose arguments go to BenchmarkDotNet unchanged.
/// Every failure is one line and an exit code: 2 for a command line that cannot work (an unknown command or option,
/// a value out of bounds, a results folder GenLab did not write), 1 when a measurement fails; the stack trace only
/// with --verbose.
/// </summary>
public static class Program
{
    public const string Synopsis = "usage: dotnet run -c Release --project Lab.Bench -- <command> [options] [--verbose]";

    private static readonly Option<bool> Verbose = new("--verbose") { Description = "print a failure's stack trace", Recursive = true };

    private static readonly Argument<string[]> GemmArgs = new("settings")
    {
        Description = GemmQuickBench.Usage,
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Argument<string[]> ConvArgs = new("settings")
    {
        Description = ConvQuickBench.Usage,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static readonly RootCommand Commands = BuildCommands();

    private static RootCommand BuildCommands()
    {
        var root = new RootCommand("GenLab benchmarks.\n" + Synopsis) { Verbose };

        var throughput = ThroughputOptions.Command();
        throughput.SetAction(parse => ThroughputCommand.Run(ThroughputOptions.From(parse)));
        root.Add(throughput);

        var gemm = new Command("gemm-quick", "SGEMM GFLOP/s against OpenBLAS when installed") { GemmArgs };
        gemm.SetAction(parse => { GemmQuickBench.Run(parse.GetValue(GemmArgs) ?? []); return 0; });
        root.Add(gemm);

        var conv = new Command("conv-quick", "convolution tuning run") { ConvArgs };
        conv.SetAction(parse => { ConvQuickBench.Run(parse.GetValue(ConvArgs) ?? []); return 0; });
        root.Add(conv);

        root.Add(Distributed.DistributedBench.Command());

        // Listed for --help; Main hands its arguments to BenchmarkDotNet without parsing them.
        root.Add(new Command("bdn", "BenchmarkDotNet suites; the arguments go to BenchmarkDotNet (e.g. --filter '*OpOverhead*')"));
        return root;
    }

    public static int Main(string[] args)
    {
        if (PeerEnvironment.RunWithout(args) is int code) return code;
        // bdn's arguments are BenchmarkDotNet's (--filter, --job, --help, ...): they are not parsed here at all.
        bool verbose = args.Contains("--verbose");
        var parse = args is ["bdn", ..]
            ? Commands.Parse(["bdn"], Parsing)
            : Commands.Parse(args, Parsing);
        try
        {
            if (args.Length == 0 || (parse.Action is not HelpAction && Problem(parse) is not null))
            {
                Console.Error.WriteLine(args.Length == 0 ? "no command given." : Problem(parse));
                if (args.Length == 0 || parse.CommandResult.Command is RootCommand) Console.Error.WriteLine(Synopsis + "; commands: " +
                    string.Join(", ", Commands.Subcommands.Select(c => c.Name)) + " (--help describes them)");
                return 2;
            }
            if (args is ["bdn", ..]) return Bdn(args[1..].Where(a => a != "--verbose").ToArray());
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e is UsageException ? e.Message : $"{args[0]} failed: {e.GetType().Name}: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return e is UsageException ? 2 : 1;
        }
    }

    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    /// <summary>The first problem of a parsed command line as one line, or null.</summary>
    private static string? Problem(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command.Name == "throughput") return ThroughputOptions.Problem(parse);
        if (command is RootCommand && parse.UnmatchedTokens.Count > 0) return $"unknown command '{parse.UnmatchedTokens[0]}'.";
        if (parse.UnmatchedTokens.Count > 0) return $"{command.Name}: unknown argument '{parse.UnmatchedTokens[0]}'.";
        return parse.Errors.Count > 0 ? $"{(command is RootCommand ? "" : command.Name + ": ")}{parse.Errors[0].Message}" : null;
    }

    private static int Bdn(string[] args)
    {
        var root = ThroughputCommand.RepoRoot();
        var benchDir = Path.Combine(root, "results", "bench");
        BenchFolder.Refuse(benchDir, ["bdn/"]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, Lab.Bench.Bdn.BenchConfig.Create(root));
        if (Directory.Exists(Path.Combine(benchDir, "bdn"))) BenchFolder.Mark(benchDir, "bdn " + string.Join(" ", args), ["bdn/"]);
        return 0;
    }
}
