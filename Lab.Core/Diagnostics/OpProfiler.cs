using System.Diagnostics;

namespace Lab.Core.Diagnostics;

/// <summary>One row of a profile: where time went, keyed by phase ("forward", "backward", ...) and label.</summary>
/// <param name="Sample">The first module or autograd node seen under this key, so that a report can read
/// its geometry (layer sizes, which inputs needed gradients) without the profiler knowing about layers.</param>
public sealed record OpTiming(string Phase, string Label, int[] InputShape, long Calls, double Seconds, object Sample);

/// <summary>
/// A per-layer and per-autograd-node timer for benchmarks (Lab.Bench's <c>throughput --profile</c>). Off by
/// default: each hook then costs one thread-static read. It profiles the thread that calls <see cref="Start"/>
/// (training steps dispatch ops from one thread; kernels may still fan out to worker threads inside a timed
/// region), so tests or other threads running models meanwhile are not mixed in. Times are exclusive: a
/// Sequential's row excludes its children, so rows add up to the time spent inside hooks. Device work is
/// timed as dispatched: on an asynchronous device, read a result before trusting the numbers.
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

    private sealed class State
    {
        public bool On;
        public readonly Dictionary<(object Kind, int Shape), Entry> Entries = [];
        public readonly Dictionary<object, string> Labels = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<long> ChildTicks = new();
    }

    [ThreadStatic] private static State? t_state;

    private static State Current => t_state ??= new State();

    /// <summary>Whether this thread is being profiled; the hooks read it.</summary>
    public static bool Enabled => t_state is { On: true };

    public static void Start() => Current.On = true;
    public static void Stop() => Current.On = false;

    /// <summary>Forgets this thread's rows.</summary>
    public static void Reset()
    {
        var s = Current;
        s.Entries.Clear();
        s.Labels.Clear();
        s.ChildTicks.Clear();
    }

    /// <summary>Opens a timed region; pair with <see cref="End"/>. Returns a timestamp.</summary>
    public static long Begin()
    {
        Current.ChildTicks.Push(0);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Closes the region opened by <see cref="Begin"/>, charging its exclusive time to a key: the kind is a
    /// module instance (one row per layer) or a node name (one row per op kind and input shape).
    /// </summary>
    public static void End(long start, string phase, object kind, object sample, Func<object, string> label, ReadOnlySpan<int> inputShape)
    {
        long elapsed = Stopwatch.GetTimestamp() - start;
        var s = Current;
        if (s.ChildTicks.Count == 0) return; // Reset inside a region: nothing to charge.
        long children = s.ChildTicks.Pop();
        if (s.ChildTicks.Count > 0) s.ChildTicks.Push(s.ChildTicks.Pop() + elapsed);
        // The shape joins the key as a hash, so a hot hook formats nothing and allocates nothing.
        var hash = new HashCode();
        foreach (int d in inputShape) hash.Add(d);
        int shape = hash.ToHashCode() ^ inputShape.Length;
        if (!s.Entries.TryGetValue((kind, shape), out var e))
        {
            if (!s.Labels.TryGetValue(kind, out var name)) s.Labels[kind] = name = label(sample);
            s.Entries[(kind, shape)] = e = new Entry(phase, name, inputShape.ToArray(), sample);
        }
        e.Calls++;
        e.Ticks += elapsed - children;
    }

    /// <summary>This thread's rows, longest first.</summary>
    public static IReadOnlyList<OpTiming> Snapshot() =>
        Current.Entries.Values
            .Select(e => new OpTiming(e.Phase, e.Label, e.Shape, e.Calls, e.Ticks / (double)Stopwatch.Frequency, e.Sample))
            .OrderByDescending(t => t.Seconds)
            .ToList();
}
