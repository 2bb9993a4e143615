using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Experiments.Experiments;
using Lab.Experiments.Quality;

namespace Lab.Experiments.PyTorch;

/// <summary>
/// `--compare-pytorch` of vae, gan, score and score-digits: after GenLab's run, the same recipe in plain PyTorch
/// (bench/pytorch/*_recipe.py) on the very rows GenLab trained on, with the same seed, epochs, batch and settings; its
/// samples are judged here by GenLab's own judge. The run's folder gets pytorch.json (status, torch version, threads,
/// the recipe's settings and training time, the judged numbers), pytorch/samples.csv and pytorch_* metrics. Without a
/// Python that imports torch, or when the recipe fails, pytorch.json says why and GenLab's own results stand.
/// </summary>
public static class PyTorchComparison
{
    public const string FileName = "pytorch.json";
    public const string Ok = "ok", Unavailable = "unavailable", Failed = "failed";

    /// <summary>The option of each experiment that has a recipe in bench/pytorch (`all` has its own, <see cref="All.AllCommand.ComparePyTorch"/>).</summary>
    public static readonly Option<bool> ComparePyTorch = Define.Flag("--compare-pytorch",
        $"also train the same recipe in plain PyTorch (bench/pytorch/*_recipe.py) on the same training rows and judge its samples with GenLab's judge: " +
        $"{FileName}, pytorch/samples.csv, pytorch_* metrics (needs a Python that imports torch: ${PyTorchPython.PythonVariable}, else /usr/bin/python3, python3, python)");

    /// <summary>Refuses --compare-pytorch beside an option that skips GenLab's training (there would be nothing to compare with).</summary>
    public static void RefuseWith(ExperimentContext ctx, Option option)
    {
        if (ctx.Given(option) && ctx.Get(ComparePyTorch))
            throw new UsageException($"{ctx.Name}: {ComparePyTorch.Name} trains the recipe in PyTorch to compare with GenLab's training, which {option.Name} skips; give one or the other.");
    }

    /// <summary>Compares a digits recipe: PyTorch's samples.csv judged by <paramref name="judge"/> (prefix "pytorch_").</summary>
    public static void Digits(ExperimentContext ctx, string script, Dataset train, int epochs, int batch, double genLabTrainSeconds,
        Func<Tensor, string, SampleQuality> judge, params string[] recipeArgs) =>
        Compare(ctx, script, train, Enumerable.Range(0, 64).Select(i => $"p{i}").ToArray(), epochs, batch, genLabTrainSeconds, recipeArgs, csv =>
        {
            var q = judge(GeneratedDigits.Read(csv), "pytorch_");
            return new Dictionary<string, object>
            {
                ["classes_covered"] = q.ClassesCovered, ["class_entropy"] = q.ClassEntropy, ["mean_confidence"] = q.MeanConfidence,
                ["frechet_distance"] = q.FrechetDistance, ["frechet_real_vs_real"] = q.FrechetRealVsReal, ["class_counts"] = q.ClassCounts,
            };
        });

    /// <summary>Compares the 2-D score recipe: PyTorch's final Langevin positions judged by GenLab's mode coverage.</summary>
    public static void Points(ExperimentContext ctx, string script, Dataset train, int epochs, int batch, double genLabTrainSeconds,
        Func<float[], ScoreExperiment.Coverage> coverage, params string[] recipeArgs) =>
        Compare(ctx, script, train, ["x0", "x1"], epochs, batch, genLabTrainSeconds, recipeArgs, csv =>
        {
            var c = coverage(ReadPoints(csv));
            ctx.Metric("pytorch_modes_covered", c.Covered);
            ctx.Metric("pytorch_within_3sigma", c.Within);
            ctx.Metric("pytorch_mode_fractions", c.Fractions);
            ctx.Log($"pytorch Langevin samples: {c.Covered} modes covered, {c.Within:P1} of samples within 3σ of a mode");
            return new Dictionary<string, object> { ["modes_covered"] = c.Covered, ["within_3sigma"] = c.Within, ["mode_fractions"] = c.Fractions };
        });

    /// <summary>An invariant-culture number as a recipe's argument, round-trippable.</summary>
    public static string Arg(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    public static string Arg(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Compare(ExperimentContext ctx, string script, Dataset train, string[] header, int epochs, int batch,
        double genLabTrainSeconds, string[] recipeArgs, Func<string, Dictionary<string, object>> judge)
    {
        if (!ctx.Get(ComparePyTorch)) return;
        var report = new JsonObject { ["status"] = null, ["reason"] = null, ["recipe"] = $"bench/pytorch/{script}" };
        var python = PyTorchPython.Find(out var reason);
        var path = python is null ? null : PyTorchPython.Recipe(script, out reason);
        if (python is null || path is null)
        {
            Finish(ctx, report, Unavailable, reason);
            return;
        }
        // One thread: at these sizes (8x8 images, batches of 16 to 64) PyTorch's OpenMP threads cost more than they give,
        // and on a busy machine their spin-waiting barriers stall it (one VAE epoch: 1.1 s on one thread, 66 s on two,
        // measured side by side on the shared 2-core machine). GenLab's own pool lets the caller run a late worker's share.
        const int threads = 1;
        report["python"] = python.Executable;
        report["torch_version"] = python.TorchVersion;
        report["device"] = "cpu";
        var outDir = ctx.PathFor("pytorch");
        Directory.CreateDirectory(outDir);
        // The rows GenLab trained on, in full precision, so that both sides learn from exactly the same data.
        var rows = Path.Combine(outDir, $".train-{Environment.ProcessId}.csv");
        string[] args = ["--out", outDir, "--train-csv", rows, "--seed", ctx.Seed.ToString(CultureInfo.InvariantCulture),
            "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture), .. recipeArgs];
        report["arguments"] = string.Join(' ', args.Select(a => a == outDir ? "<run>/pytorch" : a == rows ? "<GenLab's training rows>" : a));
        // A hung child must not hold `all` forever; a healthy one takes about as long as GenLab (10x on a loaded machine).
        var timeout = TimeSpan.FromSeconds(Math.Max(1800, 20 * genLabTrainSeconds));
        ctx.Log($"pytorch: {python.Executable} {path} {report["arguments"]} (torch {python.TorchVersion}, one thread)");
        var clock = Stopwatch.StartNew();
        PyTorchPython.ChildResult result;
        try
        {
            WriteRows(rows, header, train);
            result = python.RunScript(path, args, threads, timeout, line => ctx.Log("pytorch: " + line));
        }
        finally { File.Delete(rows); }
        report["wall_seconds"] = clock.Elapsed.TotalSeconds;
        if (result.ExitCode != 0)
        {
            var how = result.ExitCode switch
            {
                PyTorchPython.TimedOut => "was stopped after " + timeout.TotalMinutes.ToString("0", CultureInfo.InvariantCulture) + " minutes",
                PyTorchPython.NotStarted => "did not start",
                > 128 and < 160 => $"exited with {result.ExitCode} (killed by signal {result.ExitCode - 128})",
                _ => $"exited with {result.ExitCode}",
            };
            Finish(ctx, report, Failed, $"{script} {how}: {PyTorchPython.Tail(result.Stderr)}");
            return;
        }
        try
        {
            var runPath = Path.Combine(outDir, "run.json");
            var run = JsonNode.Parse(File.ReadAllText(runPath)) as JsonObject ?? throw new InvalidDataException($"{runPath}: not a JSON object.");
            report["run"] = run.DeepClone();
            report["train_seconds"] = run["train_seconds"]?.DeepClone();
            report["sample_seconds"] = run["sample_seconds"]?.DeepClone();
            report["threads"] = run["threads"]?.DeepClone();
            var metrics = judge(Path.Combine(outDir, "samples.csv"));
            report["metrics"] = JsonSerializer.SerializeToNode(metrics);
            if (run["train_seconds"]?.GetValue<double>() is double seconds) ctx.Metric("pytorch_train_seconds", seconds);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or FormatException or InvalidOperationException or NonFiniteException)
        {
            Finish(ctx, report, Failed, $"{script} ran, but its results could not be judged: {Failure.Describe(e)}");
            return;
        }
        Finish(ctx, report, Ok, "");
    }

    private static readonly JsonSerializerOptions JsonOptions =
        new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Finish(ExperimentContext ctx, JsonObject report, string status, string reason)
    {
        report["status"] = status;
        if (reason.Length > 0) report["reason"] = reason;
        else report.Remove("reason");
        ctx.Metric("pytorch_status", status);
        if (status != Ok) ctx.Log($"pytorch comparison {status}: {reason}");
        ctx.WriteText(FileName, report.ToJsonString(JsonOptions));
    }

    private static void WriteRows(string path, string[] header, Dataset data)
    {
        if (data.SampleSize != header.Length)
            throw new ArgumentException($"PyTorchComparison: {header.Length} columns for samples of {data.SampleSize} values.");
        using var w = new StreamWriter(path);
        w.WriteLine(string.Join(',', header));
        var f = data.Features;
        var line = new string[header.Length];
        for (int i = 0; i < data.Count; i++)
        {
            for (int j = 0; j < line.Length; j++) line[j] = f[i * line.Length + j].ToString("R", CultureInfo.InvariantCulture);
            w.WriteLine(string.Join(',', line));
        }
    }

    /// <summary>x0,x1 rows (a header, then two numbers per row) as interleaved coordinates.</summary>
    public static float[] ReadPoints(string path)
    {
        var values = new List<float>();
        int row = 1;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            row++;
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != 2 || !float.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                || !float.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y))
                throw new InvalidDataException($"{path}, line {row}: expected two numbers x0,x1, got '{line}'.");
            values.Add(x);
            values.Add(y);
        }
        if (values.Count == 0) throw new InvalidDataException($"{path}: no points after the header.");
        var points = values.ToArray();
        NonFinite.Check(points, "PyTorch's Langevin samples", $"in {path}");
        return points;
    }
}
