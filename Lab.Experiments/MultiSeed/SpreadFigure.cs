using Lab.Figures;

namespace Lab.Experiments.MultiSeed;

/// <summary>
/// spread.png of a multi-seed run: one panel per headline metric, the mean with a ± one standard deviation error bar
/// beside each seed's value (and, for the Fréchet distance, the real-versus-real baseline's mean and bar).
/// </summary>
internal static class SpreadFigure
{
    /// <summary>The metrics worth a panel, in this order, when the run has them (the gallery's headline numbers).</summary>
    private static readonly string[] Shown =
    [
        "test_accuracy", "test_mse", "success_rate", "mean_linf", "classes_covered", "frechet_distance", "modes_covered", "within_3sigma",
        "mean_epoch_seconds",
    ];

    /// <summary>The figure, or null when the run has none of the metrics it shows.</summary>
    public static Figure? Draw(string experiment, SortedDictionary<string, object> summary)
    {
        var names = Shown.Where(m => summary.TryGetValue(m, out var v) && v is Spread).ToList();
        if (names.Count == 0 && summary.TryGetValue("final_loss", out var loss) && loss is Spread) names.Add("final_loss");
        if (names.Count == 0) return null;
        var metrics = names.Select(name =>
        {
            var s = (Spread)summary[name];
            var reference = name == "frechet_distance" && summary.TryGetValue("frechet_real_vs_real", out var b) && b is Spread real
                ? new MetricReference("real vs real", real.Mean, real.Std) : null;
            return new MetricSpread(name.Replace('_', ' '), s.Mean, s.Std, s.Values, reference);
        }).ToList();
        var seeds = (ulong[])summary["seeds"];
        return Plots.Spread(metrics, $"{experiment} over {seeds.Length} seeds ({(seeds.Length <= 6 ? string.Join(", ", seeds) : $"{seeds[0]}, {seeds[1]}, ..., {seeds[^1]}")})");
    }
}
