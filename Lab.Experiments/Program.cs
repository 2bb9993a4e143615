using Lab.Core.Backends;
using Lab.Experiments.All;
using Lab.Experiments.Cli;
using Lab.Experiments.Experiments;

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
    ];

    public static int Main(string[] args)
    {
        using var signals = Interruption.Install(Console.Error);
        int code = Run(args, Console.Out, Console.Error);
        Interruption.WaitIfRequested(); // a signal's handler removes the staging folder and exits with 130/143
        return code;
    }

    /// <summary>
    /// The whole command line: 0 on success, 2 when the command line cannot work as given (a bad option, an output
    /// folder GenLab may not replace, a missing device), 1 when the run fails (see <see cref="Failure"/>). Every failure
    /// is one line on <paramref name="error"/>; the stack trace goes to the run log, and to <paramref name="error"/> with --verbose.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            output.Write(Usage());
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "all")
        {
            if (args.Skip(1).Any(a => a is "--help" or "-h"))
            {
                output.Write(AllUsage());
                return 0;
            }
            return AllCommand.Run(args[1..], output, error);
        }
        var experiment = Experiments.FirstOrDefault(e => e.Name == args[0]);
        if (experiment is null)
        {
            error.WriteLine($"Unknown experiment '{args[0]}'. Experiments: {string.Join(", ", Experiments.Select(e => e.Name))}, all. See --help.");
            return 2;
        }
        if (experiment is GanExperiment && WithoutLoss(args, GanExperiment.LossWganGp) is { } rest)
            (experiment, args) = (Experiments.OfType<WganGpExperiment>().Single(), rest);
        if (args.Skip(1).Any(a => a is "--help" or "-h"))
        {
            output.Write(Usage(experiment));
            return 0;
        }
        bool verbose = args.Contains("--verbose");   // before parsing: a bad option's stack too
        ExperimentContext? ctx = null;
        try
        {
            // Everything that can be checked before any work: options, the device, then the output folder.
            var options = Options.Parse(experiment.Name, args[1..], experiment.Options);
            ctx = new ExperimentContext(experiment.Name, options, output);
            verbose = options.Flag("verbose");
            if (ctx.Device.Type != Lab.Core.DeviceType.Cpu) _ = BackendRegistry.For(ctx.Device);
            ctx.Open();
        }
        catch (Exception e)
        {
            ctx?.Dispose();
            error.WriteLine(Failure.Describe(e));
            if (verbose) error.WriteLine(e);
            return Failure.SetupExitCode(e);
        }
        using (ctx)
        {
            try
            {
                experiment.Run(ctx);
                ctx.Commit();
                output.WriteLine($"Results in {ctx.FinalDir}");
                return 0;
            }
            catch (Exception e)
            {
                int code = Failure.ExitCode(e);
                var log = ctx.Abandon(e, keepLog: code != 2);
                if (Interruption.Requested) return 130; // the signal's handler reports and exits
                var what = code == 2 ? Failure.Describe(e) : $"{experiment.Name} failed: {Failure.Describe(e)}";
                error.WriteLine($"{what} (earlier results in {ctx.FinalDir} were left untouched{(log is null ? "" : $"; details in {log}")})");
                if (verbose) error.WriteLine(e);
                return code;
            }
        }
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

    public static string Usage(IExperiment? only = null)
    {
        var sb = new System.Text.StringBuilder();
        if (only is null)
        {
            sb.AppendLine("GenLab experiments: the course's exercises, reproduced on GenLab's own core.");
            sb.AppendLine();
            sb.AppendLine("usage: dotnet run -c Release --project Lab.Experiments -- <experiment> [options]");
            sb.AppendLine();
            sb.AppendLine("experiments:");
            foreach (var e in Experiments) sb.AppendLine($"  {e.Name,-14}{e.Description}");
            sb.AppendLine($"  {"all",-14}{AllCommand.Description}");
            sb.AppendLine();
            sb.AppendLine("common options:");
        }
        else
        {
            sb.AppendLine($"{only.Name}: {only.Description}");
            sb.AppendLine();
            sb.AppendLine("options:");
            foreach (var o in only.Options) AppendOption(sb, o);
        }
        foreach (var o in Options.Common) AppendOption(sb, o);
        if (only is null) sb.AppendLine("\n<experiment> --help lists an experiment's own options.");
        return sb.ToString();
    }

    private static string AllUsage()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"all: {AllCommand.Description}");
        sb.AppendLine();
        sb.AppendLine("options (passed on to every experiment; --out is the parent folder):");
        foreach (var o in AllCommand.Specific.Concat(Options.Common)) AppendOption(sb, o);
        return sb.ToString();
    }

    private static void AppendOption(System.Text.StringBuilder sb, OptionSpec o)
    {
        var head = $"--{o.Name}{(o.Value.Length > 0 ? " " + o.Value : "")}";
        sb.AppendLine($"  {head,-34}{o.Help}{(o.Default is null ? "" : $" (default: {o.Default})")}");
    }
}
