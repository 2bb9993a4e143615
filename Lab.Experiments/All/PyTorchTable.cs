using System.Globalization;
using System.Text;
using System.Text.Json;
using Lab.Experiments.PyTorch;

namespace Lab.Experiments.All;

/// <summary>
/// The gallery's "GenLab beside PyTorch" table: for every generative experiment (one whose metrics.json judges samples),
/// each number GenLab's judge gave its samples beside the number it gave PyTorch's (pytorch.json, written by
/// <see cref="PyTorchComparison"/>), and both training times. An empty PyTorch column says why: torch missing, the
/// recipe failed, no recipe exists, or the run did not ask for the comparison.
/// </summary>
public static class PyTorchTable
{
    /// <summary>The judged numbers in the order the table shows them (others a recipe reports follow, sorted).</summary>
    private static readonly string[] Order =
        ["frechet_distance", "classes_covered", "class_entropy", "mean_confidence", "frechet_real_vs_real", "modes_covered", "within_3sigma"];

    /// <summary>What marks an experiment as generative in its metrics.json.</summary>
    private static readonly string[] Judged = ["frechet_distance", "modes_covered"];

    /// <param name="asked">Whether the `all` run asked for the comparison (`all --compare-pytorch`).</param>
    public static void Append(StringBuilder sb, string root, IReadOnlyList<Outcome> outcomes, bool asked)
    {
        var rows = new List<string>();
        var notes = new List<string>();
        foreach (var o in outcomes)
        {
            var dir = Path.Combine(root, o.Experiment);
            var genLab = ReadObject(Path.Combine(dir, "metrics.json"));
            if (genLab is null || !Judged.Any(k => genLab.Value.TryGetProperty(k, out _))) continue;
            // A multi-seed run (--seeds, --repeat): every number is a spread over the seeds, PyTorch's as pytorch_* in the
            // same summary; each seed's folder holds its pytorch.json (the first one's names the recipe and arguments).
            bool multi = genLab.Value.TryGetProperty("seed_folders", out var folders) && folders.ValueKind == JsonValueKind.Array
                && folders.GetArrayLength() > 0;
            var report = ReadObject(multi ? Path.Combine(dir, folders[0].GetString() ?? "", PyTorchComparison.FileName) : Path.Combine(dir, PyTorchComparison.FileName));
            var pyMetrics = report is { } r && Str(r, "status") == PyTorchComparison.Ok && r.TryGetProperty("metrics", out var m) ? m : (JsonElement?)null;
            var keys = pyMetrics is { } judged && !multi ? Keys(judged, all: true) : Keys(genLab.Value, all: false);
            string why = pyMetrics is not null ? "" : WhyEmpty(o, report, asked);
            bool first = true;
            foreach (var key in keys.Append("train_seconds"))
            {
                var mine = genLab.Value.TryGetProperty(key, out var g) ? Format(g) : "";
                var theirs = pyMetrics is not { } pm ? (first ? $"— {why}" : "—")
                    : multi ? (genLab.Value.TryGetProperty("pytorch_" + key, out var spread) ? Format(spread) : "")
                    : key == "train_seconds" ? (report!.Value.TryGetProperty("train_seconds", out var t) ? Format(t) : "")
                    : pm.TryGetProperty(key, out var p) ? Format(p) : "";
                rows.Add($"| {(first ? $"[{o.Experiment}](#{o.Experiment})" : "")} | {Label(key)} | {mine} | {theirs} |");
                first = false;
            }
            if (pyMetrics is not null)
                notes.Add($"{o.Experiment}: torch {Str(report!.Value, "torch_version")} ({Str(report.Value, "python")}, {Threads(report.Value)}, " +
                          $"`{Str(report.Value, "recipe")} {Str(report.Value, "arguments")}`)");
        }
        if (rows.Count == 0) return;
        sb.AppendLine("## GenLab beside PyTorch");
        sb.AppendLine();
        sb.AppendLine("The same recipe trained by GenLab and by plain PyTorch (`bench/pytorch`, each script's docstring maps it to GenLab's) " +
                      "on the same training rows with the same seed, epochs, batch and settings; PyTorch's samples are judged by GenLab's own judge " +
                      "against the same held-out data. Training seconds are the training loops alone; PyTorch runs on the CPU with one thread (its fastest at these sizes; its OpenMP threads stall on a busy machine). " +
                      "The random streams differ, so one seed's numbers differ by about the seed-to-seed spread; a multi-seed run shows mean ± sample standard deviation over its seeds. The summary's time column " +
                      "of a compared experiment includes its PyTorch run.");
        sb.AppendLine();
        sb.AppendLine("| experiment | metric | GenLab | PyTorch |");
        sb.AppendLine("| --- | --- | ---: | ---: |");
        foreach (var row in rows) sb.AppendLine(row);
        sb.AppendLine();
        foreach (var note in notes) sb.AppendLine($"- {note}");
        if (notes.Count > 0) sb.AppendLine();
    }

    /// <summary>Why the PyTorch column of an experiment is empty, in a few words a reader can act on.</summary>
    public static string WhyEmpty(Outcome outcome, JsonElement? report, bool asked)
    {
        if (report is { } r)
            return $"{Str(r, "status")}: {Str(r, "reason")}".Replace("|", "\\|");
        var experiment = Program.Experiments.FirstOrDefault(e => e.Name == outcome.Experiment);
        if (experiment is null || !experiment.Options.Contains(PyTorchComparison.ComparePyTorch))
            return "no PyTorch recipe in bench/pytorch for this experiment";
        if (outcome.Status != Outcome.Ok) return "not compared: GenLab's run did not complete";
        return asked ? "not compared" : "not compared: run `all --compare-pytorch`";
    }

    /// <summary>The judged numbers of <paramref name="metrics"/> in <see cref="Order"/>; with <paramref name="all"/>, the others after them.</summary>
    private static IEnumerable<string> Keys(JsonElement metrics, bool all)
    {
        var scalars = metrics.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number || IsSpread(p.Value)).Select(p => p.Name).ToHashSet();
        var rest = all ? scalars.Where(k => !Order.Contains(k)).Order(StringComparer.Ordinal) : Enumerable.Empty<string>();
        return Order.Where(scalars.Contains).Concat(rest);
    }

    private static string Label(string key) => key == "train_seconds" ? "training seconds" : key.Replace('_', ' ');

    private static JsonElement? ReadObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : null;
        }
        catch (Exception e) when (e is JsonException or IOException) { return null; }
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.ToString()) : "?";

    private static string Threads(JsonElement report) =>
        report.TryGetProperty("threads", out var v) ? $"{Format(v)} thread{(v.ValueKind == JsonValueKind.Number && v.GetDouble() == 1 ? "" : "s")}" : "? threads";

    /// <summary>A metric of a multi-seed summary: {"mean", "std", "min", "max", "values"}.</summary>
    private static bool IsSpread(JsonElement v) =>
        v.ValueKind == JsonValueKind.Object && v.TryGetProperty("mean", out var mean) && mean.ValueKind == JsonValueKind.Number
        && v.TryGetProperty("std", out var std) && std.ValueKind == JsonValueKind.Number;

    private static string Format(JsonElement v)
    {
        if (IsSpread(v)) return $"{Format(v.GetProperty("mean"))} ± {Format(v.GetProperty("std"))}";
        if (v.ValueKind != JsonValueKind.Number) return v.ToString().Replace("|", "\\|");
        if (v.TryGetInt64(out var i)) return i.ToString(CultureInfo.InvariantCulture);
        double d = v.GetDouble();
        return Math.Abs(d) >= 100 ? d.ToString("0", CultureInfo.InvariantCulture) : d.ToString("G4", CultureInfo.InvariantCulture);
    }
}
