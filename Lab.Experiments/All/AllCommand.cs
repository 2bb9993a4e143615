using System.CommandLine;
using System.Diagnostics;
using Lab.Core.Backends;
using Lab.Core.Data.Files;
using Lab.Experiments.Cli;
using Lab.Experiments.Output;

namespace Lab.Experiments.All;

/// <summary>What happened to one experiment in an `all` run.</summary>
public sealed record Outcome(string Experiment, string Status, int ExitCode, double Seconds, string Note = "")
{
    public const string Ok = "ok", Failed = "failed", Skipped = "skipped";
}

/// <summary>
/// `all`: every experiment with its defaults, one after another, each into its own folder under --out
/// (results/ by default), then results/README.md: a gallery of the figures and a table of the metrics.
/// A failing experiment is reported and the rest still run; its earlier results stay where they were.
/// `all` writes only its own files into --out: the experiments' folders (each replaced only when it is GenLab's),
/// the classifier cache, and README.md only when it carries <see cref="Gallery.Marker"/>.
/// </summary>
public static class AllCommand
{
    public const string Description = "runs every experiment with its defaults, then writes <out>/README.md (gallery and metrics)";

    public static readonly Option<string?> Data = Define.OptionalText("--data", "DIR", "IDX folder for mnist (without it mnist runs only when Fashion-MNIST is installed)");
    public static readonly Option<string?> Skip = Define.OptionalText("--skip", "NAME,NAME...", "experiments to leave out (their earlier results, if any, stay in the gallery)");
    public static readonly Option<bool> ComparePyTorch = Define.Flag("--compare-pytorch",
        "also train each generative recipe that has a PyTorch translation in bench/pytorch with PyTorch, judge its samples with GenLab's judge, " +
        "and show both side by side in the gallery (needs a Python that imports torch)");
    public static readonly Option[] Specific = [Data, Skip, ComparePyTorch];

    /// <summary>The text given for <paramref name="option"/>, or null: `all` passes options on as they were typed.</summary>
    private static string? Given(ParseResult options, Option option) =>
        options.GetResult(option) is { Implicit: false } r ? string.Join(" ", r.Tokens.Select(t => t.Value)) : null;

    public static int Run(ParseResult options, TextWriter output, TextWriter error)
    {
        var skip = (options.GetValue(Skip) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        if (skip.FirstOrDefault(s => Program.Experiments.All(e => e.Name != s)) is string unknown)
        {
            error.WriteLine($"all: '--skip {options.GetValue(Skip)}': '{unknown}' is not an experiment ({string.Join(", ", Program.Experiments.Select(e => e.Name))}).");
            return 2;
        }
        if (options.GetValue(CommonOptions.Distributed))
        {
            error.WriteLine("all: --distributed trains one experiment at a time: mpirun -np N dotnet run -c Release --project Lab.Experiments -- digits --distributed");
            return 2;
        }
        // Everything that can be checked is checked before the first experiment runs: the device, then every folder
        // and the gallery file this run would replace (each must be GenLab's), so a refusal costs no training.
        bool verbose = options.GetValue(CommonOptions.Verbose);
        string root;
        OutputLock? rootLock;
        try
        {
            var dir = options.GetValue(CommonOptions.Out) ?? "results";
            root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
            if (Lab.Core.Device.Parse(options.GetValue(CommonOptions.Device)!) is { Type: not Lab.Core.DeviceType.Cpu } device)
                _ = BackendRegistry.For(device);
            if (File.Exists(root)) throw new OutputFolderException($"cannot write results to {root}: it is a file, not a folder.");
            Directory.CreateDirectory(root);
            // A folder the run cannot write to (read-only, no permission) fails here, not after every experiment.
            using (File.Create(Path.Combine(root, $".genlab-probe-{Environment.ProcessId}"), 1, FileOptions.DeleteOnClose)) { }
            rootLock = OutputLock.TryAcquire(root)
                ?? throw new OutputFolderException($"another GenLab `all` is writing to {root}; wait for it to finish or choose another --out.", 1);
        }
        catch (Exception e)
        {
            error.WriteLine(Failure.Describe(e));
            return Failure.SetupExitCode(e);
        }
        using var held = rootLock;
        try
        {
            bool mnistRuns = options.GetValue(Data) is not null || FashionMnistFiles.TryLocate(out _) is not null;
            foreach (var experiment in Program.Experiments.Where(e => !skip.Contains(e.Name) && (e.Name != "mnist" || mnistRuns)))
                OutputFolder.Refuse(OutputFolder.CheckPath(Path.Combine(root, experiment.Name)));
            Gallery.Refuse(root);
        }
        catch (Exception e)
        {
            error.WriteLine(Failure.Describe(e));
            return Failure.SetupExitCode(e);
        }
        bool compare = options.GetValue(ComparePyTorch);
        if (compare)
            output.WriteLine(PyTorch.PyTorchPython.Find(out var noTorch) is { } python
                ? $"== PyTorch beside GenLab: {python.Executable}, torch {python.TorchVersion}"
                : $"== PyTorch beside GenLab: no PyTorch column ({noTorch})");
        var outcomes = new List<Outcome>();
        foreach (var experiment in Program.Experiments)
        {
            var name = experiment.Name;
            if (skip.Contains(name))
            {
                output.WriteLine($"== {name} skipped (--skip)");
                outcomes.Add(new Outcome(name, Outcome.Skipped, 0, 0, "left out with --skip; any results shown are from an earlier run."));
                continue;
            }
            var runArgs = new List<string> { name, "--out", Path.Combine(root, name) };
            foreach (var common in new Option[] { CommonOptions.Seed, CommonOptions.Seeds, CommonOptions.Repeat, CommonOptions.Epochs, CommonOptions.Device, CommonOptions.Video })
                if (Given(options, common) is string v) runArgs.AddRange([common.Name, v]);
            foreach (var flag in new[] { CommonOptions.Quick, CommonOptions.DetectAnomaly }) if (options.GetValue(flag)) runArgs.Add(flag.Name);
            if (verbose) runArgs.Add("--verbose");
            if (compare && experiment.Options.Contains(PyTorch.PyTorchComparison.ComparePyTorch)) runArgs.Add(PyTorch.PyTorchComparison.ComparePyTorch.Name);
            if (name == "mnist")
            {
                if (options.GetValue(Data) is string data) runArgs.AddRange(["--data", data]);
                else if (FashionMnistFiles.TryLocate(out var reason) is null)
                {
                    output.WriteLine($"== mnist skipped: {reason}");
                    outcomes.Add(new Outcome(name, Outcome.Skipped, 0, 0, reason + " Run `mnist --data DIR` or install dataset-fashion-mnist."));
                    continue;
                }
            }
            output.WriteLine($"== {string.Join(' ', runArgs)}");
            var clock = Stopwatch.StartNew();
            int code;
            try { code = Program.Run([.. runArgs], output, error); }
            catch (Exception e)
            {
                // Program.Run reports failures itself; this is the last line of defence so the others still run.
                error.WriteLine($"{name} failed: {e.GetType().Name}: {e.Message}");
                code = 1;
            }
            var seconds = clock.Elapsed.TotalSeconds;
            outcomes.Add(new Outcome(name, code == 0 ? Outcome.Ok : Outcome.Failed, code, seconds,
                code == 0 ? "" : $"exit code {code}; see the messages above. Results shown are from an earlier run, if any."));
            output.WriteLine($"== {name}: {(code == 0 ? "ok" : $"FAILED (exit code {code})")} in {seconds:0.0}s");
        }
        try { Gallery.Write(root, outcomes, string.Join(" ", options.Tokens.Skip(1).Select(t => t.Value)), compare); }
        catch (Exception e)
        {
            error.WriteLine($"all: the gallery was not written: {Failure.Describe(e)}");
            if (verbose) error.WriteLine(e);
            return 1;
        }
        output.WriteLine();
        foreach (var o in outcomes) output.WriteLine($"  {o.Experiment,-14}{o.Status,-9}{(o.Status == Outcome.Skipped ? "" : $"{o.Seconds,8:0.0}s")}  {o.Note}");
        output.WriteLine($"Gallery in {Path.Combine(root, Gallery.FileName)}");
        return outcomes.Any(o => o.Status == Outcome.Failed) ? 1 : 0;
    }
}
