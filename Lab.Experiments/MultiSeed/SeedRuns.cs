using System.Text.Json;
using Lab.Core.IO;
using Lab.Experiments.Cli;
using Lab.Experiments.Experiments;
using Lab.Experiments.Output;

namespace Lab.Experiments.MultiSeed;

/// <summary>
/// `&lt;experiment&gt; --seeds 0,1,2` (or `--repeat N`): the experiment once per seed, each a complete run of its own in
/// &lt;out&gt;/seed-N (metrics, figures, history, run log, manifest), then at &lt;out&gt; the spread: metrics.json with each
/// metric's mean, standard deviation, min, max and per-seed values (<see cref="SeedSummary"/>), spread.png with error bars
/// (<see cref="SpreadFigure"/>) and a table on the console. &lt;out&gt; is one output folder with the usual guarantees
/// (<see cref="OutputFolder"/>): locked, replaced only when it is GenLab's, and only when every seed succeeded, so a
/// failing seed leaves the earlier results as they were (its run log is kept beside &lt;out&gt;).
/// </summary>
public static class SeedRuns
{
    public const string FigureName = "spread";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <param name="parent">The checked options and output folder of the whole run (never opened itself; disposed here).</param>
    public static int Run(IExperiment experiment, ExperimentContext parent, IReadOnlyList<ulong> seeds, TextWriter error, bool verbose)
    {
        using var _ = parent;
        var output = parent.Output;
        OutputFolder folder;
        try { folder = OutputFolder.Open(parent.FinalDir, new RunManifest { Experiment = experiment.Name, Options = parent.Arguments }); }
        catch (Exception e)
        {
            error.WriteLine(Failure.Describe(e));
            if (verbose) error.WriteLine(e);
            return Failure.SetupExitCode(e);
        }
        using (folder)
        {
            var runs = new List<(ulong Seed, Dictionary<string, JsonElement> Metrics)>();
            for (int i = 0; i < seeds.Count; i++)
            {
                ulong seed = seeds[i];
                var name = SeedSummary.FolderName(seed);
                var dir = Path.Combine(folder.StagingDir, name);
                output.WriteLine($"== {experiment.Name}, seed {seed} ({i + 1} of {seeds.Count}) into {Path.Combine(parent.FinalDir, name)}");
                // The classifier cache stays beside <out> (results/cache), shared with single runs, not inside the staging folder.
                var ctx = new ExperimentContext(experiment.Name, parent.Options, output, dir, seed) { CacheDir = parent.CacheDir };
                var seedError = new StringWriter();
                int code = Program.RunOne(experiment, ctx, seedError, verbose);
                if (code != 0)
                {
                    if (Interruption.Requested) return 130;
                    var log = KeepLog(dir + ".failed-run.log.jsonl", folder.FailedLog);
                    folder.Abandon(null);
                    var lines = seedError.ToString().Split('\n', 2);
                    error.WriteLine($"{lines[0].TrimEnd().TrimEnd('.')}; that was seed {seed}, so no seed's results were kept (earlier results in {parent.FinalDir} " +
                                    $"were left untouched{(log is null ? "" : $"; the failed seed's log is {log}")}).");
                    if (lines.Length > 1) error.Write(lines[1]);   // --verbose: the stack trace
                    return code;
                }
                runs.Add((seed, ReadMetrics(dir)));
            }
            try
            {
                var summary = SeedSummary.Summarise(runs);
                summary["experiment"] = experiment.Name;
                AtomicFile.WriteAllText(Path.Combine(folder.StagingDir, "metrics.json"), JsonSerializer.Serialize(summary, Json));
                SpreadFigure.Draw(experiment.Name, summary)?.Save(Path.Combine(folder.StagingDir, FigureName + ".png"));
                output.Write(SeedSummary.Table(experiment.Name, summary));
                folder.Commit();
            }
            catch (Exception e)
            {
                int code = Failure.ExitCode(e);
                folder.Abandon(null);
                if (Interruption.Requested) return 130;
                error.WriteLine($"{experiment.Name} failed: {Failure.Describe(e)} (earlier results in {parent.FinalDir} were left untouched)");
                if (verbose) error.WriteLine(e);
                return code;
            }
            output.WriteLine($"Results in {parent.FinalDir} (one folder per seed; the spread in metrics.json and {FigureName}.png)");
            return 0;
        }
    }

    private static Dictionary<string, JsonElement> ReadMetrics(string dir) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(dir, "metrics.json")))
        ?? throw new InvalidDataException($"{dir}/metrics.json is empty.");

    /// <summary>Moves a failed seed's run log out of the staging folder that is about to go; returns where it is now, or null.</summary>
    private static string? KeepLog(string from, string to)
    {
        try
        {
            if (!File.Exists(from)) return null;
            File.Move(from, to, overwrite: true);
            return to;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
