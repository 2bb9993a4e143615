using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lab.Bench.Throughput;

/// <summary>
/// One measured (or unavailable) workload on one device by one implementation: the JSON line both GenLab's
/// harness and bench/pytorch/seed_workloads.py print. <see cref="Error"/> is set, and the rates are null,
/// when the device or the library could not run it.
/// </summary>
public sealed record ThroughputResult
{
    public required string Workload { get; init; }
    public required string Device { get; init; }
    public string Impl { get; init; } = "genlab";
    public int Batch { get; init; }
    public int Threads { get; init; }
    public double? StepsPerS { get; init; }
    public double? ImagesPerS { get; init; }
    public double? MsPerStep { get; init; }
    /// <summary>Managed bytes allocated per step (GenLab); null for PyTorch, whose allocations are native.</summary>
    public double? AllocatedBytesPerStep { get; init; }
    /// <summary>Minor page faults per step during the window (Linux; both implementations report it).</summary>
    public double? PageFaultsPerStep { get; init; }
    public long? Steps { get; init; }
    public double? Seconds { get; init; }
    public string? Error { get; init; }
    /// <summary>How the implementation was configured (PyTorch: threads, BLAS threads, Adam variant).</summary>
    public string? Config { get; init; }
    /// <summary>Each round's steps/s when several alternating rounds ran (<see cref="StepsPerS"/> is then their median).</summary>
    public IReadOnlyList<double>? RoundsStepsPerS { get; init; }
    public double? MinStepsPerS { get; init; }
    public double? MaxStepsPerS { get; init; }
    /// <summary>PyTorch: what each configuration gave in the short trial that chose <see cref="Config"/>.</summary>
    public string? Trials { get; init; }

    [JsonIgnore]
    public bool Ok => Error is null && StepsPerS is not null;

    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static ThroughputResult Measured(string workload, string device, int batch, int imagesPerStep, int threads, StepTiming t) => new()
    {
        Workload = workload,
        Device = device,
        Batch = batch,
        Threads = threads,
        StepsPerS = Round(t.MedianStepsPerSecond),
        ImagesPerS = Round(t.MedianStepsPerSecond * imagesPerStep),
        MsPerStep = Round(1000 / t.MedianStepsPerSecond),
        AllocatedBytesPerStep = Math.Round(t.AllocatedBytesPerStep),
        PageFaultsPerStep = t.PageFaultsPerStep is double f ? Math.Round(f, 1) : null,
        Steps = t.Steps,
        Seconds = Math.Round(t.Seconds, 3),
    };

    public static ThroughputResult Failed(string workload, string device, string impl, string error, int batch = 0, int threads = 0) =>
        new() { Workload = workload, Device = device, Impl = impl, Error = error, Batch = batch, Threads = threads };

    /// <summary>
    /// Several rounds of one workload by one implementation as one result: the round with the median steps/s
    /// (the lower middle one for an even count, so the result is a measured round), with every round's rate and
    /// the min and max. A failed round makes the result that round's failure: a flaky peer is not hidden.
    /// </summary>
    public static ThroughputResult Combine(IReadOnlyList<ThroughputResult> rounds)
    {
        if (rounds.Count == 0) throw new ArgumentException("no rounds to combine", nameof(rounds));
        if (rounds.FirstOrDefault(r => !r.Ok) is { } failed) return failed;
        if (rounds.Select(r => (r.Workload, r.Device, r.Impl)).Distinct().Count() != 1)
            throw new ArgumentException("rounds of different workloads, devices or implementations", nameof(rounds));
        var rates = rounds.Select(r => r.StepsPerS!.Value).ToArray();
        var median = rounds.OrderBy(r => r.StepsPerS).ElementAt((rounds.Count - 1) / 2);
        return median with { RoundsStepsPerS = rates, MinStepsPerS = rates.Min(), MaxStepsPerS = rates.Max() };
    }

    /// <summary>Four significant digits: more would be noise.</summary>
    private static double Round(double x) => x == 0 || !double.IsFinite(x) ? x : Math.Round(x, Math.Max(0, 3 - (int)Math.Floor(Math.Log10(Math.Abs(x)))));

    public string ToJsonLine() => JsonSerializer.Serialize(this, s_options);

    /// <summary>Parses one JSON line, or returns null for a line that is not a result (a log line).</summary>
    public static ThroughputResult? TryParse(string line)
    {
        line = line.Trim();
        if (!line.StartsWith('{')) return null;
        try
        {
            var r = JsonSerializer.Deserialize<ThroughputResult>(line, s_options);
            return r is null || string.IsNullOrEmpty(r.Workload) || string.IsNullOrEmpty(r.Device) ? null : r;
        }
        catch (JsonException) { return null; }
    }

    public static string ToJsonArray(IEnumerable<ThroughputResult> results) =>
        JsonSerializer.Serialize(results, new JsonSerializerOptions(s_options) { WriteIndented = true });

    internal static JsonSerializerOptions Options => s_options;
}
