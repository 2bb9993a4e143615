using System.Diagnostics;

namespace Lab.Core.Diagnostics;

/// <summary>One row of a profile: where time went, keyed by phase ("forward", "backward", ...) and label.</summary>
/// <param name="Sample">The first module or autograd node seen under this key, so that a report can read
/// its geometry (layer sizes, which inputs needed gradients) without the profiler knowing about layers.</param>
public sealed record OpTiming(string Phase, string Label, int[] InputShape, long Calls, double Seconds, object Sample);

/// <summary>
/// A per-layer and per-autograd-node timer for benchmarks (Lab.Bench's <c>throughput --profile</c>). Off by
/// default: each hook then costs one static read. When on, times are exclusive: a Sequential's time excludes
/// its children, so rows add up to the time spent inside hooks. Single-threaded by design (training steps
/// dispatch ops from one thread; kernels may still fan out to worker threads inside a timed region).
/// Device work is timed as dispatched: on an asynchronous device, read a result before trusting the numbers.
/// </summary>
public static class OpProfiler
{
    private sealed class Entry(string phase, string label, int[] shape, object sample)
    {
        public readonly string Phase = phase, Label = label;
        public readonly int[] Shape = shape;
        public readonly object Sample = sample;
        public long Calls, Ticks;
    }

    private static readonly Dictionary<(object Kind, string Shape), Entry> s_entries = [];
    private static readonly Dictionary<object, string> s_labels = new(ReferenceEqualityComparer.Instance);
    private static readonly Stack<long> s_childTicks = new();

    /// <summary>Read by the hooks; flip it with <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public static bool Enabled { get; private set; }

    public static void Start() => Enabled = true;
    public static void Stop() => Enabled = false;

    public static void Reset()
    {
        s_entries.Clear();
        s_labels.Clear();
        s_childTicks.Clear();
    }

    /// <summary>Opens a timed region; pair with <see cref="End"/>. Returns a timestamp.</summary>
    public static long Begin()
    {
        s_childTicks.Push(0);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Closes the region opened by <see cref="Begin"/>, charging its exclusive time to a key: the kind is a
    /// module instance (one row per layer) or a node name (one row per op kind and input shape).
    /// </summary>
    public static void End(long start, string phase, object kind, object sample, Func<object, string> label, ReadOnlySpan<int> inputShape)
    {
        long elapsed = Stopwatch.GetTimestamp() - start;
        long children = s_childTicks.Pop();
        if (s_childTicks.Count > 0) s_childTicks.Push(s_childTicks.Pop() + elapsed);
        string shape = ShapeUtil.Format(inputShape);
        if (!s_entries.TryGetValue((kind, shape), out var e))
        {
            if (!s_labels.TryGetValue(kind, out var name)) s_labels[kind] = name = label(sample);
            s_entries[(kind, shape)] = e = new Entry(phase, name, inputShape.ToArray(), sample);
        }
        e.Calls++;
        e.Ticks += elapsed - children;
    }

    /// <summary>Charges time measured elsewhere (an optimizer step, a loss) to a label.</summary>
    public static void Add(string phase, string label, long ticks, long calls = 1)
    {
        string kind = phase + "/" + label;
        if (!s_entries.TryGetValue((kind, ""), out var e))
            s_entries[(kind, "")] = e = new Entry(phase, label, [], label);
        e.Calls += calls;
        e.Ticks += ticks;
    }

    public static IReadOnlyList<OpTiming> Snapshot() =>
        s_entries.Values
            .Select(e => new OpTiming(e.Phase, e.Label, e.Shape, e.Calls, e.Ticks / (double)Stopwatch.Frequency, e.Sample))
            .OrderByDescending(t => t.Seconds)
            .ToList();
}
