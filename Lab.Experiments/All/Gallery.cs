using System.Globalization;
using System.Text;
using System.Text.Json;
using Lab.Core.IO;
using Lab.Experiments.Cli;
using Lab.Experiments.Output;

namespace Lab.Experiments.All;

/// <summary>
/// results/README.md: what each experiment measured (a summary table of the headline numbers, then every
/// scalar of each metrics.json) and every figure it drew, linked relative to the README so the folder can
/// be browsed on any forge or copied elsewhere.
/// </summary>
public static class Gallery
{
    public const string FileName = "README.md";

    /// <summary>The gallery's first line: a README.md without it is a user's, and `all` neither reads nor replaces it.</summary>
    public const string Marker = "<!-- GenLab gallery, written by `all`; the next `all` replaces this file. Delete this line to keep your edits. -->";

    /// <summary>Throws (exit code 2) when <paramref name="root"/>/README.md exists and is not GenLab's gallery.</summary>
    public static void Refuse(string root)
    {
        var path = Path.Combine(root, FileName);
        if (Directory.Exists(path) || (File.Exists(path) && !IsGallery(path)))
            throw new OutputFolderException($"refusing to replace {path}: GenLab did not write it (its first line is not GenLab's gallery marker).");
    }

    private static bool IsGallery(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine() == Marker;
    }

    /// <summary>The numbers worth a column in the summary, in this order, when an experiment has them.</summary>
    private static readonly string[] Headline =
    [
        "test_accuracy", "success_rate", "mean_linf", "classes_covered", "frechet_distance", "frechet_real_vs_real", "modes_covered", "within_3sigma",
        "mean_epoch_seconds", "test_exact_match",
    ];

    /// <param name="comparedWithPyTorch">Whether the run asked for `--compare-pytorch` (the PyTorch table says so when a column is empty).</param>
    public static void Write(string root, IReadOnlyList<Outcome> outcomes, string arguments, bool comparedWithPyTorch = false)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Marker);
        sb.AppendLine("# GenLab results");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project Lab.Experiments -- all{(arguments.Length > 0 ? " " + arguments : "")}` " +
                      $"at commit {RunManifest.SourceCommit} on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC ({Environment.ProcessorCount} logical CPUs). Every folder holds the experiment's " +
                      "`metrics.json`, its training history as CSV, TensorBoard event files and a JSON-lines run log beside the figures.");
        sb.AppendLine();

        var metrics = outcomes.ToDictionary(o => o.Experiment, o => Read(Path.Combine(root, o.Experiment, "metrics.json")));
        var columns = Headline.Where(h => metrics.Values.Any(m => m?.ContainsKey(h) == true)).ToArray();
        sb.AppendLine($"| experiment | run | time | {string.Join(" | ", columns.Select(c => c.Replace('_', ' ')))} |");
        sb.AppendLine($"| --- | --- | ---: |{string.Concat(columns.Select(_ => " ---: |"))}");
        foreach (var o in outcomes)
        {
            var m = metrics[o.Experiment];
            var time = o.Status == Outcome.Skipped ? "" : $"{o.Seconds:0}s";
            sb.AppendLine($"| [{o.Experiment}](#{o.Experiment}) | {o.Status} | {time} | " +
                          string.Join(" | ", columns.Select(c => m is not null && m.TryGetValue(c, out var v) ? HeadlineCell(m, c, v) : "")) + " |");
        }
        sb.AppendLine();
        PyTorchTable.Append(sb, root, outcomes, comparedWithPyTorch);

        foreach (var o in outcomes)
        {
            var dir = Path.Combine(root, o.Experiment);
            var description = Program.Experiments.First(e => e.Name == o.Experiment).Description;
            sb.AppendLine($"## {o.Experiment}");
            sb.AppendLine();
            sb.AppendLine($"{char.ToUpperInvariant(description[0])}{description[1..]}.");
            sb.AppendLine();
            if (o.Note.Length > 0) { sb.AppendLine($"**{o.Status}:** {o.Note}"); sb.AppendLine(); }
            if (metrics[o.Experiment] is { } m)
            {
                sb.AppendLine("| metric | value |");
                sb.AppendLine("| --- | ---: |");
                foreach (var (k, v) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    if (v.ValueKind is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False
                        || (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() <= 10 && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)))
                        sb.AppendLine($"| {k} | {Format(v)} |");
                    else if (IsSpread(v))
                        sb.AppendLine($"| {k} | {Format(v)} ({Format(v.GetProperty("min"))} – {Format(v.GetProperty("max"))}; per seed {string.Join(", ", v.GetProperty("values").EnumerateArray().Select(Format))}) |");
                sb.AppendLine();
            }
            if (metrics[o.Experiment] is { } ms && ms.TryGetValue("seed_folders", out var seedFolders) && seedFolders.ValueKind == JsonValueKind.Array
                && seedFolders.GetArrayLength() > 0)
            {
                // A multi-seed run: its spread figure, then the first seed's figures; every seed's folder linked.
                var folders = seedFolders.EnumerateArray().Select(f => f.GetString()!).ToList();
                sb.AppendLine($"Mean ± sample standard deviation over {folders.Count} seeds; each seed's complete results: " +
                              string.Join(", ", folders.Select(f => $"[{f}]({o.Experiment}/{f})")) + $". The figures after the spread are {folders[0]}'s.");
                sb.AppendLine();
                AppendFigures(sb, dir, o.Experiment, "");
                AppendFigures(sb, Path.Combine(dir, folders[0]), $"{o.Experiment}/{folders[0]}", folders[0].Replace('-', ' ') + ": ");
            }
            else AppendFigures(sb, dir, o.Experiment, "");
        }
        Directory.CreateDirectory(root);
        Refuse(root); // again: a README.md may have appeared while the experiments ran
        AtomicFile.WriteAllText(Path.Combine(root, FileName), sb.ToString());
    }

    /// <summary>A headline cell: a single run's real-versus-real baseline with its spread over the draws; anything else as it is.</summary>
    private static string HeadlineCell(Dictionary<string, JsonElement> m, string column, JsonElement v) =>
        column == "frechet_real_vs_real" && v.ValueKind == JsonValueKind.Number && m.TryGetValue("frechet_real_vs_real_std", out var sd) && sd.ValueKind == JsonValueKind.Number
            ? $"{Format(v)} ± {Format(sd)}" : Format(v);

    /// <summary>A multi-seed metric: {"mean", "std", "min", "max", "values"} (see MultiSeed.Spread).</summary>
    private static bool IsSpread(JsonElement v) => v.ValueKind == JsonValueKind.Object && v.TryGetProperty("mean", out _) && v.TryGetProperty("std", out _);

    /// <summary>The figures in <paramref name="dir"/>, linked as <paramref name="link"/>/file, captions after <paramref name="captionPrefix"/>.</summary>
    private static void AppendFigures(StringBuilder sb, string dir, string link, string captionPrefix)
    {
        if (!Directory.Exists(dir)) return;
        // Tables an experiment writes as Markdown (attention's translations.md) are shown as they are.
        foreach (var table in Directory.EnumerateFiles(dir, "*.md").Order(StringComparer.Ordinal))
        {
            sb.AppendLine(File.ReadAllText(table).TrimEnd());
            sb.AppendLine();
        }
        // PNGs and GIFs shown, each PNG's SVG linked; an MP4 (--video mp4) is linked, as Markdown cannot show it.
        bool Shown(string f) => f.EndsWith(".png", StringComparison.Ordinal) || f.EndsWith(".gif", StringComparison.Ordinal)
            || f.EndsWith(".mp4", StringComparison.Ordinal);
        foreach (var figure in Directory.EnumerateFiles(dir).Where(Shown).Order(StringComparer.Ordinal))
        {
            var file = Path.GetFileName(figure);
            var caption = captionPrefix + Path.GetFileNameWithoutExtension(file).Replace('_', ' ');
            if (file.EndsWith(".mp4", StringComparison.Ordinal))
            {
                sb.AppendLine($"**{caption}** (video: [{file}]({link}/{file}))");
                sb.AppendLine();
                continue;
            }
            var svg = Path.ChangeExtension(file, ".svg");
            bool svgBeside = file.EndsWith(".png", StringComparison.Ordinal) && File.Exists(Path.Combine(dir, svg));
            sb.AppendLine($"**{caption}**{(svgBeside ? $" ([svg]({link}/{svg}))" : "")}");
            sb.AppendLine();
            sb.AppendLine($"![{caption}]({link}/{file})");
            sb.AppendLine();
        }
    }

    private static Dictionary<string, JsonElement>? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path)); }
        catch (JsonException) { return null; }
    }

    private static string Format(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object when IsSpread(v) => v.GetProperty("std").ValueKind == JsonValueKind.Number
            ? $"{Format(v.GetProperty("mean"))} ± {Format(v.GetProperty("std"))}" : Format(v.GetProperty("mean")),
        JsonValueKind.Number when v.TryGetInt64(out var i) => i.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number => Number(v.GetDouble()),
        JsonValueKind.Array => "[" + string.Join(", ", v.EnumerateArray().Select(Format)) + "]",
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        _ => v.ToString().Replace("|", "\\|"),
    };

    private static string Number(double d) =>
        double.IsFinite(d) ? (Math.Abs(d) >= 1000 || d == Math.Round(d) ? d.ToString("0.##", CultureInfo.InvariantCulture) : d.ToString("G4", CultureInfo.InvariantCulture)) : d.ToString(CultureInfo.InvariantCulture);
}
