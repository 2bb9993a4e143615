using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lab.Experiments.MultiSeed;

/// <summary>One metric over the seeds: mean, sample standard deviation (n - 1; NaN for one seed), min, max and every value in seed order.</summary>
public sealed record Spread(
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("std")] double Std,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("values")] double[] Values)
{
    public static Spread Of(double[] values)
    {
        if (values.Length == 0) throw new ArgumentException("Spread.Of: no values.");
        double mean = values.Average();
        double std = values.Length < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        return new Spread(mean, std, values.Min(), values.Max(), values);
    }

    /// <summary>"29.5 ± 3.1", or the mean alone when one seed leaves no spread.</summary>
    public override string ToString() => double.IsNaN(Std) ? Number(Mean) : $"{Number(Mean)} ± {Number(Std)}";

    public static string Number(double d) =>
        !double.IsFinite(d) ? d.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(d) >= 1000 || d == Math.Round(d) ? d.ToString("0.##", CultureInfo.InvariantCulture) : d.ToString("G4", CultureInfo.InvariantCulture);
}

/// <summary>
/// The summary of a multi-seed run, written as &lt;out&gt;/metrics.json: every metric that is a number in every seed's
/// metrics.json becomes a <see cref="Spread"/> under its own name; text and flags the seeds agree on are kept as they
/// are; arrays (class counts, curves) stay in the seeds' folders. "seeds" lists the seeds in order and "seed_folders"
/// their folders.
/// </summary>
public static class SeedSummary
{
    public static SortedDictionary<string, object> Summarise(IReadOnlyList<(ulong Seed, Dictionary<string, JsonElement> Metrics)> runs)
    {
        var summary = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var key in runs.SelectMany(r => r.Metrics.Keys).Distinct())
        {
            // The seed itself (and the judge's split seed, which follows it) is listed under "seeds", not averaged.
            if (key == "seed" || key.EndsWith("_seed", StringComparison.Ordinal)) continue;
            var values = runs.Select(r => r.Metrics.TryGetValue(key, out var v) ? v : default).ToList();
            if (values.All(IsNumberOrNamed))
                summary[key] = Spread.Of([.. values.Select(Value)]);
            else if (values.All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.True or JsonValueKind.False)
                     && values.Select(v => v.GetRawText()).Distinct().Count() == 1)
                summary[key] = values[0];
        }
        summary["seeds"] = runs.Select(r => r.Seed).ToArray();
        summary["seed_folders"] = runs.Select(r => FolderName(r.Seed)).ToArray();
        summary["runs"] = runs.Count;
        return summary;
    }

    public static string FolderName(ulong seed) => $"seed-{seed}";

    // metrics.json writes NaN and infinities as the strings "NaN", "Infinity" and "-Infinity".
    private static bool IsNamedNumber(string s) => s is "NaN" or "Infinity" or "-Infinity";
    private static bool IsNumberOrNamed(JsonElement v) => v.ValueKind == JsonValueKind.Number || (v.ValueKind == JsonValueKind.String && IsNamedNumber(v.GetString()!));
    private static double Value(JsonElement v) => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.Parse(v.GetString()!, CultureInfo.InvariantCulture);

    /// <summary>The console's table: one line per metric with mean ± std, min – max and the value of each seed.</summary>
    public static string Table(string experiment, SortedDictionary<string, object> summary)
    {
        var seeds = (ulong[])summary["seeds"];
        var spreads = summary.Where(kv => kv.Value is Spread).Select(kv => (kv.Key, Spread: (Spread)kv.Value)).ToList();
        int width = Math.Max(6, spreads.Select(s => s.Key.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.AppendLine($"{experiment} over {seeds.Length} seed(s) ({string.Join(", ", seeds)}): mean ± std (sample, n - 1), min – max, per seed");
        sb.AppendLine($"  {"metric".PadRight(width)}  {"mean ± std",-22}{"min – max",-24}per seed");
        foreach (var (key, s) in spreads)
            sb.AppendLine($"  {key.PadRight(width)}  {s,-22}{$"{Spread.Number(s.Min)} – {Spread.Number(s.Max)}",-24}{string.Join(", ", s.Values.Select(Spread.Number))}");
        return sb.ToString();
    }
}
