using System.Globalization;
using System.Text;
using System.Text.Json;
using Lab.Experiments.All;
using Lab.Experiments.PyTorch;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>A fact that needs a Python that imports torch: skipped, with the reason, where there is none.</summary>
public sealed class TorchFactAttribute : FactAttribute
{
    public TorchFactAttribute()
    {
        if (PyTorchPython.Find(out var reason) is null) Skip = reason;
    }
}

/// <summary>
/// `--compare-pytorch`: the recipe gets GenLab's own rows and settings, GenLab's judge scores what it writes, a missing
/// torch or a failing recipe is reported without touching GenLab's results, and the gallery puts both side by side.
/// Stand-in Pythons (shell scripts) exercise every path without torch; one end-to-end run needs the real one.
/// </summary>
public class PyTorchComparisonTests
{
    /// <summary>A shell script that answers the torch probe with a version, then runs <paramref name="body"/> for the recipe.</summary>
    private static string FakePython(TempFolder folder, string body, string probe = "echo 0.0-fake", string name = "python")
    {
        var path = folder[name];
        File.WriteAllText(path, $$"""
            #!/bin/sh
            if [ "$1" = "-c" ]; then {{probe}}; exit $?; fi
            script=$1; shift
            while [ $# -gt 0 ]; do
              case $1 in --out) out=$2; shift;; --train-csv) rows=$2; shift;; esac
              shift
            done
            {{body}}
            """.Replace("\r", ""));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static ChildProcess.Result Run(string python, params string[] args) =>
        ChildProcess.Finish(ChildProcess.Start(Directory.GetCurrentDirectory(), new Dictionary<string, string> { [PyTorchPython.PythonVariable] = python }, args));

    private static JsonElement Report(string dir)
    {
        var path = Path.Combine(dir, PyTorchComparison.FileName);
        Assert.True(File.Exists(path), $"{path} is missing");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void WithoutTorchTheReasonNamesEachPythonAndTheFix()
    {
        using var folder = new TempFolder();
        Assert.Null(PyTorchPython.Find(["/nonexistent/genlab-python"], out var reason));
        Assert.Equal("torch not importable by /nonexistent/genlab-python (not found): apt-get install python3-torch", reason);

        var python = FakePython(folder, "exit 1", probe: "echo \"ModuleNotFoundError: No module named 'torch'\" >&2; exit 1", name: "no-torch");
        Assert.Null(PyTorchPython.Find([python, "/nonexistent/genlab-python"], out reason));
        Assert.Equal($"torch not importable by {python} (ModuleNotFoundError: No module named 'torch'), /nonexistent/genlab-python (not found): " +
                     "apt-get install python3-torch, or set GENLAB_PYTHON to a Python that imports torch", reason);

        var withTorch = FakePython(folder, "exit 0", name: "with-torch");
        var found = PyTorchPython.Find([folder["missing"], withTorch], out reason);
        Assert.Equal(new PyTorchPython(withTorch, "0.0-fake"), found);
        Assert.Equal("", reason);
    }

    [Fact]
    public void WithoutTorchTheRunStandsAndSaysWhyThereIsNoPyTorchColumn()
    {
        using var folder = new TempFolder();
        var r = Run("/nonexistent/genlab-python", "score", "--quick", "--compare-pytorch", "--out", folder["score"]);
        Assert.True(r.Code == 0, r.Error);
        var metrics = Files.Metrics(folder["score"]);
        Assert.Equal("unavailable", metrics["pytorch_status"].GetString());
        Assert.True(metrics["modes_covered"].GetInt32() >= 1);
        Assert.True(File.Exists(Path.Combine(folder["score"], "samples.csv")));
        Assert.False(Directory.Exists(Path.Combine(folder["score"], "pytorch")));
        var report = Report(folder["score"]);
        Assert.Equal("unavailable", report.GetProperty("status").GetString());
        Assert.Equal("torch not importable by /nonexistent/genlab-python (not found): apt-get install python3-torch", report.GetProperty("reason").GetString());
        Assert.Contains("pytorch comparison unavailable: torch not importable by /nonexistent/genlab-python", r.Output);

        // The gallery's PyTorch column then says why, beside GenLab's numbers.
        var table = Table(folder.Path, [new Outcome("score", Outcome.Ok, 0, 1)], asked: true);
        var modes = metrics["modes_covered"].GetInt32();
        Assert.Contains($"| [score](#score) | modes covered | {modes} | — unavailable: torch not importable by /nonexistent/genlab-python (not found): apt-get install python3-torch |", table);
        Assert.Contains("|  | training seconds | ", table);
    }

    [Fact]
    public void AFailingRecipeIsReportedWithItsErrorOutputAndGenLabsResultsStand()
    {
        using var folder = new TempFolder();
        var python = FakePython(folder, """
            echo "epoch 1/1: loss 1.0"
            echo "Traceback (most recent call last):" >&2
            echo "RuntimeError: the recipe broke" >&2
            exit 3
            """);
        var r = Run(python, "score", "--quick", "--compare-pytorch", "--out", folder["score"]);
        Assert.True(r.Code == 0, r.Error);
        Assert.Contains("pytorch: epoch 1/1: loss 1.0", r.Output);
        var report = Report(folder["score"]);
        Assert.Equal("failed", report.GetProperty("status").GetString());
        Assert.Equal("score_recipe.py exited with 3: Traceback (most recent call last): | RuntimeError: the recipe broke", report.GetProperty("reason").GetString());
        Assert.Equal("failed", Files.Metrics(folder["score"])["pytorch_status"].GetString());
        Files.Csv(Path.Combine(folder["score"], "samples.csv"));
        Assert.False(File.Exists(Path.Combine(folder["score"], "pytorch", "samples.csv")));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder["score"], "pytorch"), ".train-*"));
    }

    [Fact]
    public void SamplesThatCannotBeJudgedAreAFailureNamingTheFileAndLine()
    {
        using var folder = new TempFolder();
        var python = FakePython(folder, """
            printf 'x0,x1\n0.5,0.25\n1.0,oops\n' > "$out/samples.csv"
            echo '{"train_seconds": 1}' > "$out/run.json"
            """);
        var r = Run(python, "score", "--quick", "--compare-pytorch", "--out", folder["score"]);
        Assert.True(r.Code == 0, r.Error);
        var reason = Report(folder["score"]).GetProperty("reason").GetString()!;
        Assert.StartsWith("score_recipe.py ran, but its results could not be judged: ", reason);
        Assert.EndsWith("samples.csv, line 3: expected two numbers x0,x1, got '1.0,oops'.", reason);
    }

    /// <summary>
    /// A stand-in recipe keeps the rows it was given and returns them as its samples: they must be exactly GenLab's
    /// training rows, and GenLab's judge must have scored them (the 2-D training points sit on the five modes).
    /// </summary>
    [Fact]
    public void TheRecipeTrainsOnGenLabsOwnRowsAndGenLabJudgesItsSamples()
    {
        using var folder = new TempFolder();
        var python = FakePython(folder, $$"""
            cp "$rows" "{{folder["rows.csv"]}}"
            cp "$rows" "$out/samples.csv"
            echo '{"train_seconds": 0.5, "sample_seconds": 0.25, "threads": 7, "torch_version": "0.0-fake"}' > "$out/run.json"
            basename "$script" > "{{folder["script"]}}"
            """);
        var r = Run(python, "score", "--quick", "--compare-pytorch", "--seed", "3", "--out", folder["score"]);
        Assert.True(r.Code == 0, r.Error);
        Assert.Contains("score_recipe.py", File.ReadAllText(folder["script"]));
        var (_, data) = Files.Csv(Path.Combine(folder["score"], "data.csv"));     // GenLab's points, 5 decimals
        var (header, rows) = Files.Csv(folder["rows.csv"]);
        Assert.Equal(["x0", "x1"], header);
        Assert.Equal(data.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(data[i][0], rows[i][0], 1e-5);
            Assert.Equal(data[i][1], rows[i][1], 1e-5);
        }
        var metrics = Files.Metrics(folder["score"]);
        Assert.Equal("ok", metrics["pytorch_status"].GetString());
        Assert.Equal(5, metrics["pytorch_modes_covered"].GetInt32());
        // 1 - exp(-4.5) = 98.9% of a 2-D Gaussian lies within 3 sigma of its mean.
        Assert.InRange(metrics["pytorch_within_3sigma"].GetDouble(), 0.97, 1.0);
        Assert.Equal(0.5, metrics["pytorch_train_seconds"].GetDouble());
        var report = Report(folder["score"]);
        Assert.Equal("ok", report.GetProperty("status").GetString());
        Assert.Equal(7, report.GetProperty("threads").GetInt32());
        Assert.Equal("--out <run>/pytorch --train-csv <GenLab's training rows> --seed 3 --epochs 1 --batch 16 " +
                     "--threads 1 --lr 0.01 --loss exact --samples 1000 --steps 10 --eps 0.01 --temperature 1",
                     report.GetProperty("arguments").GetString());
        Assert.Equal(5, report.GetProperty("metrics").GetProperty("modes_covered").GetInt32());
    }

    [Fact]
    public void DigitsRecipesGetTheTrainingSplitExactlyAndTheJudgeCountsEverySample()
    {
        using var folder = new TempFolder();
        var python = FakePython(folder, $$"""
            cp "$rows" "{{folder["rows.csv"]}}"
            cp "$rows" "$out/samples.csv"
            echo '{"train_seconds": 2, "sample_seconds": 0.5, "threads": 2}' > "$out/run.json"
            """);
        var r = Run(python, "vae", "--quick", "--compare-pytorch", "--sweep", "none", "--seed", "2", "--out", folder["vae"]);
        Assert.True(r.Code == 0, r.Error);
        var (header, rows) = Files.Csv(folder["rows.csv"]);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => $"p{i}"), header);
        // The quick run's 160 training digits of seed 2's split, bit for bit (written with the round-trip format).
        var expected = DigitsSource.Split(2).Train.Subset(Enumerable.Range(0, 160).ToArray()).Features;
        Assert.Equal(expected, rows.SelectMany(row => row.Select(v => (float)v)).ToArray());
        var metrics = Files.Metrics(folder["vae"]);
        Assert.Equal(160, metrics["pytorch_class_counts"].EnumerateArray().Sum(c => c.GetInt32()));
        Files.AssertFinite(metrics, "pytorch_frechet_distance", "pytorch_mean_confidence", "frechet_distance");
        var report = Report(folder["vae"]);
        Assert.EndsWith("--seed 2 --epochs 1 --batch 16 --threads 1 --temperature 0.01", report.GetProperty("arguments").GetString());
        Assert.Equal(metrics["pytorch_frechet_distance"].GetDouble(), report.GetProperty("metrics").GetProperty("frechet_distance").GetDouble());
    }

    [Fact]
    public void ComparingWhereGenLabDoesNotTrainIsAUsageError()
    {
        using var folder = new TempFolder();
        var r = Cli.Run("score-digits", "--checkpoint", folder["none.ckpt"], "--compare-pytorch", "--quick", "--out", folder["sd"]);
        Assert.Equal(2, r.Code);
        Assert.Contains("score-digits: --compare-pytorch trains the recipe in PyTorch to compare with GenLab's training, which --checkpoint skips; give one or the other.", r.Error);
        r = Cli.Run("gan", "--judge-samples", folder["samples.csv"], "--compare-pytorch", "--quick", "--out", folder["gan"]);
        Assert.Equal(2, r.Code);
        Assert.Contains("gan: --compare-pytorch trains the recipe in PyTorch to compare with GenLab's training, which --judge-samples skips", r.Error);
    }

    [Fact]
    public void TheGallerySaysWhyEachPyTorchCellIsEmpty()
    {
        using var folder = new TempFolder();
        void Write(string experiment, string file, string json)
        {
            Directory.CreateDirectory(folder[experiment]);
            File.WriteAllText(Path.Combine(folder[experiment], file), json);
        }
        Write("wgan-gp", "metrics.json", """{"frechet_distance": 4.5, "classes_covered": 10, "train_seconds": 30.25}""");
        Write("vae", "metrics.json", """{"frechet_distance": 12.5, "classes_covered": 9, "train_seconds": 20}""");
        Write("gan", "metrics.json", """{"frechet_distance": 40.25, "classes_covered": 10, "train_seconds": 60}""");
        Write("gan", "pytorch.json", """
            {"status": "ok", "recipe": "bench/pytorch/gan_recipe.py", "arguments": "--seed 0", "python": "/usr/bin/python3",
             "torch_version": "1.13.1", "threads": 1, "train_seconds": 45.5,
             "metrics": {"frechet_distance": 30.5, "classes_covered": 8, "class_counts": [1, 2]}}
            """);
        Write("score", "metrics.json", """{"modes_covered": 5, "within_3sigma": 0.9, "train_seconds": 3}""");
        Write("score", "pytorch.json", """{"status": "failed", "reason": "score_recipe.py exited with 1: ValueError: a|b"}""");
        Write("digits", "metrics.json", """{"test_accuracy": 0.97}""");
        Outcome[] outcomes =
        [
            new("digits", Outcome.Ok, 0, 1), new("vae", Outcome.Ok, 0, 1), new("gan", Outcome.Ok, 0, 1),
            new("wgan-gp", Outcome.Ok, 0, 1), new("score", Outcome.Ok, 0, 1), new("score-digits", Outcome.Failed, 1, 1),
        ];
        var table = Table(folder.Path, outcomes, asked: false);
        var lines = table.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains("| experiment | metric | GenLab | PyTorch |", lines);
        Assert.Contains("| [gan](#gan) | frechet distance | 40.25 | 30.5 |", lines);
        Assert.Contains("|  | classes covered | 10 | 8 |", lines);
        Assert.Contains("|  | training seconds | 60 | 45.5 |", lines);
        Assert.Contains("| [wgan-gp](#wgan-gp) | frechet distance | 4.5 | — no PyTorch recipe in bench/pytorch for this experiment |", lines);
        Assert.Contains("|  | training seconds | 30.25 | — |", lines);
        Assert.Contains("| [vae](#vae) | frechet distance | 12.5 | — not compared: run `all --compare-pytorch` |", lines);
        Assert.Contains("| [score](#score) | modes covered | 5 | — failed: score_recipe.py exited with 1: ValueError: a\\|b |", lines);
        Assert.Contains("- gan: torch 1.13.1 (/usr/bin/python3, 1 thread, `bench/pytorch/gan_recipe.py --seed 0`)", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("| [digits]", StringComparison.Ordinal));        // not generative
        Assert.DoesNotContain(lines, l => l.StartsWith("| [score-digits]", StringComparison.Ordinal));  // no results at all
        Assert.DoesNotContain(lines, l => l.Contains("class counts", StringComparison.Ordinal));        // arrays stay in pytorch.json
    }

    [Fact]
    public void AMultiSeedRunShowsMeanAndSpreadOnBothSides()
    {
        using var folder = new TempFolder();
        static string Spread(double mean, double std) =>
            $$"""{"mean": {{mean}}, "std": {{std}}, "min": 0, "max": 100, "values": [1, 2]}""";
        Directory.CreateDirectory(Path.Combine(folder["gan"], "seed-3"));
        File.WriteAllText(Path.Combine(folder["gan"], "metrics.json"), $$"""
            {"seeds": [3, 4], "seed_folders": ["seed-3", "seed-4"], "frechet_distance": {{Spread(24.5, 9.25)}},
             "classes_covered": {{Spread(9.5, 0.5)}}, "train_seconds": {{Spread(2.5, 0.25)}},
             "pytorch_frechet_distance": {{Spread(26.25, 8)}}, "pytorch_classes_covered": {{Spread(9, 0)}}, "pytorch_train_seconds": {{Spread(17, 1)}}}
            """);
        File.WriteAllText(Path.Combine(folder["gan"], "seed-3", "pytorch.json"), """
            {"status": "ok", "recipe": "bench/pytorch/gan_recipe.py", "arguments": "--seed 3", "python": "/usr/bin/python3",
             "torch_version": "1.13.1", "threads": 1, "train_seconds": 16, "metrics": {"frechet_distance": 30.5, "classes_covered": 8}}
            """);
        var lines = Table(folder.Path, [new Outcome("gan", Outcome.Ok, 0, 1)], asked: true).Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains("| [gan](#gan) | frechet distance | 24.5 ± 9.25 | 26.25 ± 8 |", lines);
        Assert.Contains("|  | classes covered | 9.5 ± 0.5 | 9 ± 0 |", lines);
        Assert.Contains("|  | training seconds | 2.5 ± 0.25 | 17 ± 1 |", lines);
        Assert.Contains("- gan: torch 1.13.1 (/usr/bin/python3, 1 thread, `bench/pytorch/gan_recipe.py --seed 3`)", lines);
    }

    [Fact]
    public void AGalleryWithoutGenerativeResultsHasNoPyTorchTable()
    {
        using var folder = new TempFolder();
        Assert.Equal("", Table(folder.Path, [new Outcome("vae", Outcome.Skipped, 0, 0)], asked: true));
    }

    private static string Table(string root, IReadOnlyList<Outcome> outcomes, bool asked)
    {
        var sb = new StringBuilder();
        PyTorchTable.Append(sb, root, outcomes, asked);
        return sb.ToString();
    }

    /// <summary>
    /// `all --quick --compare-pytorch` on the generative experiments with the real torch: the gallery has GenLab's and
    /// PyTorch's column, every judged number on both sides parses, and each experiment's pytorch.json names the torch it used.
    /// </summary>
    [TorchFact]
    public void AllComparePyTorchPutsBothColumnsInTheGallery()
    {
        using var folder = new TempFolder();
        var r = Cli.Ok("all", "--quick", "--compare-pytorch", "--skip", "toy,digits,adversarial,mnist,functional", "--out", folder.Path);
        Assert.Contains("== PyTorch beside GenLab: ", r.Output);
        var gallery = File.ReadAllLines(Path.Combine(folder.Path, Gallery.FileName));
        int header = Array.IndexOf(gallery, "| experiment | metric | GenLab | PyTorch |");
        Assert.True(header > 0, "the gallery has no GenLab-beside-PyTorch table");
        var rows = gallery.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
        string? experiment = null;
        var seen = new Dictionary<string, List<string>>();
        foreach (var row in rows)
        {
            if (row[1].Length > 0) experiment = row[1][1..row[1].IndexOf(']')];
            seen.TryAdd(experiment!, []);
            seen[experiment!].Add(row[2]);
            if (experiment == "wgan-gp")
            {
                Assert.True(double.TryParse(row[3], NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"GenLab's {row[2]} of wgan-gp: '{row[3]}'");
                continue;
            }
            foreach (var cell in row[3..5])
                Assert.True(double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v),
                    $"{experiment} {row[2]}: '{cell}' is not a number in row |{string.Join('|', row)}|");
        }
        Assert.Equal(["vae", "gan", "wgan-gp", "score", "score-digits"], seen.Keys);
        foreach (var name in new[] { "vae", "gan", "score-digits" })
            Assert.Equal(["frechet distance", "classes covered", "class entropy", "mean confidence", "frechet real vs real", "training seconds"], seen[name]);
        Assert.Equal(["modes covered", "within 3sigma", "training seconds"], seen["score"]);
        Assert.Contains("no PyTorch recipe", rows.First(row => row[1].StartsWith("[wgan-gp]", StringComparison.Ordinal))[4]);
        foreach (var name in new[] { "vae", "gan", "score", "score-digits" })
        {
            var report = Report(Path.Combine(folder.Path, name));
            Assert.Equal("ok", report.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(report.GetProperty("torch_version").GetString()));
            Assert.Equal(1, report.GetProperty("run").GetProperty("epochs").GetInt32());
            Assert.True(File.Exists(Path.Combine(folder.Path, name, "pytorch", "samples.csv")));
        }
    }
}
