using Lab.Figures;

namespace Lab.Bench.Throughput;

/// <summary>results/bench/throughput.png/.svg: steps per second per workload, one bar per implementation and device.</summary>
public static class ThroughputChart
{
    /// <summary>The chart's series: GenLab and each peer on each device that has at least one measurement; NaN for a gap.</summary>
    public static (IReadOnlyList<string> Groups, IReadOnlyList<Series> Series) Data(IReadOnlyList<ThroughputResult> results)
    {
        var groups = results.Select(r => r.Workload).Distinct().ToList();
        var series = new List<Series>();
        foreach (var device in results.Select(r => r.Device).Distinct())
            foreach (var impl in new[] { "genlab", ThroughputCommand.TracedImpl }.Concat(Peers.Known))
            {
                string name = Peers.Name(impl);
                var values = groups.Select(g => results.FirstOrDefault(r => r.Workload == g && r.Device == device && r.Impl == impl && r.Ok)?.StepsPerS ?? double.NaN).ToList();
                if (values.Any(double.IsFinite)) series.Add(new Series($"{name} {device}", values));
            }
        return (groups, series);
    }

    /// <summary>Writes the chart as .png and .svg; returns the files, or null when there is nothing to draw.</summary>
    public static IReadOnlyList<string>? Save(string pathWithoutExtension, IReadOnlyList<ThroughputResult> results)
    {
        var (groups, series) = Data(results);
        if (series.Count == 0) return null;
        // About 150 pixels per workload, so that names like attention_dates_b32 do not run into each other.
        var figure = Plots.GroupedBars(groups, series, "Training steps per second (higher is better)",
            "steps/s (log scale)", logScale: true, width: Math.Max(960, 150 * groups.Count), height: 480);
        return figure.Save(pathWithoutExtension + ".png");
    }
}
