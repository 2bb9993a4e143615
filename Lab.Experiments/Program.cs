using System.CommandLine;
using Lab.Core.Backends;
using Lab.Experiments.All;
using Lab.Experiments.Cli;
using Lab.Experiments.Experiments;
using Lab.Experiments.MultiSeed;

namespace Lab.Experiments;

public static class Program
{
    public static readonly IExperiment[] Experiments =
    [
        new ToyExperiment(),
        new DigitsExperiment(),
        new AdversarialExperiment(),
        new VaeExperiment(),
        new GanExperiment(),
        new WganGpExperiment(),
        new ScoreExperiment(),
        new ScoreDigitsExperiment(),
        new MnistExperiment(),
        new FunctionalExperiment(),
        new SequenceExperiment(),
        new AttentionExperiment(),
    ];

    public static int Main(string[] args)
    {
        using var signals = Interruption.Install(Console.Error);
        int code = Run(args, Console.Out, Console.Error);
        Interruption.WaitIfRequested(); // a signal's handler removes the staging folder and exits with 130/143
        return code;
    }

    /// <summary>
    /// The command line, defined once with System.CommandLine: one subcommand per experiment (its own options and
    /// the common ones) and `all`. Parsed afresh per call; the definitions are shared and never change after this.
    /// </summary>
    public static readonly RootCommand Commands = BuildCommands();

    private static RootCommand BuildCommands()
    {
        var root = new RootCommand("GenLab experiments: the course's exercises, reproduced on GenLab's own core.\n" +
                                   "usage: dotnet run -c Release --project Lab.Experiments -- <experiment> [options]");
        foreach (var experiment in Experiments)
        {
            var command = new Command(experiment.Name, experiment.Description);
            foreach (var option in experiment.Options.Concat(CommonOptions.All)) command.Add(option);
            command.Validators.Add(SeedList.Validate);
            command.SetAction(parse => RunExperiment(experiment, parse, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
            root.Add(command);
        }
        var all = new Command("all", AllCommand.Description + " (options are passed on to every experiment; --out is the parent folder)");
        foreach (var option in AllCommand.Specific.Concat(CommonOptions.All)) all.Add(option);
        all.Validators.Add(SeedList.Validate);
        all.SetAction(parse => AllCommand.Run(parse, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        root.Add(all);
        return root;
    }

    /// <summary>Response files (@file) and other expansions are off: an argument is what was typed.</summary>
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    /// <summary>
    /// The whole command line: 0 on success, 2 when the command line cannot work as given (a bad option, an output
    /// folder GenLab may not replace, a missing device), 1 when the run fails (see <see cref="Failure"/>). Every failure
    /// is one line on <paramref name="error"/>; the stack trace goes to the run log, and to <paramref name="error"/> with --verbose.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (args.Length == 0)
        {
            Commands.Parse(["--help"], Parsing).Invoke(invocation);
            return 2;
        }
        if (args[0] == "gan" && WithoutLoss(args, GanExperiment.LossWganGp) is { } rest) args = rest;
        var parse = Commands.Parse(args, Parsing);
        if (ParseErrors.Describe(parse, "experiment") is { } problem && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            error.WriteLine(problem);
            return 2;
        }
        return parse.Invoke(invocation);
    }

    private static int RunExperiment(IExperiment experiment, ParseResult parse, TextWriter output, TextWriter error)
    {
        bool verbose = parse.GetValue(CommonOptions.Verbose);
        ExperimentContext? ctx = null;
        try
        {
            // Everything that can be checked before any work: options (parsed), the device, then the output folder.
            ctx = new ExperimentContext(experiment.Name, parse, output);
            verbose = ctx.Get(CommonOptions.Verbose);
            if (ctx.DataParallel is not null && experiment is not IDataParallelExperiment)
                throw new UsageException($"--distributed: {experiment.Name} does not train data-parallel yet ({string.Join(" and ", Experiments.OfType<IDataParallelExperiment>().Select(e => e.Name))} do).");
            if (ctx.Device.Type != Lab.Core.DeviceType.Cpu) _ = BackendRegistry.For(ctx.Device);
            if (ctx.DataParallel is not null && ctx.Seeds is not null)
                throw new UsageException("--distributed runs one seed: leave out --seeds and --repeat (or launch one job per seed).");
            if (ctx.Seeds is null) ctx.Open();
            if (ctx.DataParallel is not null) ctx.Log(ctx.RanksNote);
        }
        catch (Exception e)
        {
            error.WriteLine(RankOf(ctx) + Failure.Describe(e));
            if (verbose) error.WriteLine(e);
            int code = Failure.SetupExitCode(e);
            StopEveryRank(ctx, code);
            ctx?.Dispose();
            return code;
        }
        return ctx.Seeds is { } seeds ? SeedRuns.Run(experiment, ctx, seeds, error, verbose) : RunOpened(experiment, ctx, error, verbose);
    }

    /// <summary>
    /// One seed of a multi-seed run (<see cref="SeedRuns"/>): opens the context's output folder, runs, commits, and
    /// disposes the context; failures reported as a single run reports them.
    /// </summary>
    internal static int RunOne(IExperiment experiment, ExperimentContext ctx, TextWriter error, bool verbose)
    {
        try { ctx.Open(); }
        catch (Exception e)
        {
            ctx.Dispose();
            error.WriteLine(Failure.Describe(e));
            if (verbose) error.WriteLine(e);
            return Failure.SetupExitCode(e);
        }
        return RunOpened(experiment, ctx, error, verbose, single: false);
    }

    /// <param name="single">A run of its own, which says where its results are; a seed of a multi-seed run leaves that, and what
    /// became of the earlier results, to the whole run.</param>
    private static int RunOpened(IExperiment experiment, ExperimentContext ctx, TextWriter error, bool verbose, bool single = true)
    {
        using (ctx)
        {
            try
            {
                experiment.Run(ctx);
                ctx.Commit();
                if (single) ctx.Output.WriteLine($"Results in {ctx.FinalDir}");
                return 0;
            }
            catch (Exception e)
            {
                int code = Failure.ExitCode(e);
                var log = ctx.Abandon(e, keepLog: code != 2);
                if (Interruption.Requested) return 130; // the signal's handler reports and exits
                var what = code == 2 ? Failure.Describe(e) : $"{experiment.Name} failed: {Failure.Describe(e)}";
                error.WriteLine(RankOf(ctx) + (single ? $"{what} (earlier results in {ctx.FinalDir} were left untouched{(log is null ? "" : $"; details in {log}")})" : what));
                if (verbose) error.WriteLine(e);
                StopEveryRank(ctx, code);
                return code;
            }
        }
    }

    /// <summary>Which rank failed, where several run (--distributed under mpirun): "rank 1 of 2: ".</summary>
    private static string RankOf(ExperimentContext? ctx) =>
        ctx is { Communicator.Size: > 1 } ? $"rank {ctx.Communicator.Rank} of {ctx.Communicator.Size}: " : "";

    /// <summary>A failure on one rank stops them all (MPI_Abort with the exit code): the others would otherwise wait
    /// for it in their next collective forever.</summary>
    private static void StopEveryRank(ExperimentContext? ctx, int code)
    {
        if (ctx is { Communicator.Size: > 1 }) ctx.Communicator.Abort(code);
    }

    /// <summary>
    /// `gan --loss wgan-gp ...` is `wgan-gp ...`: the same experiment, one results folder and gallery row. Returns the
    /// arguments for it (without the --loss option) when <paramref name="args"/> asks for that loss, else null.
    /// </summary>
    private static string[]? WithoutLoss(string[] args, string loss)
    {
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--loss" && i + 1 < args.Length && args[i + 1] == loss)
                return ["wgan-gp", .. args[1..i], .. args[(i + 2)..]];
            if (args[i] == "--loss=" + loss)
                return ["wgan-gp", .. args[1..i], .. args[(i + 1)..]];
        }
        return null;
    }
}
