using System.Diagnostics;

namespace Lab.Core.Diagnostics;

/// <summary>One row of a profile: where time went, keyed by phase ("forward", "backward", ...) and label.</summary>
/// <param name="Sample">The first module (or a <see cref="NodeSample"/> of the first autograd node) seen under this key, so that a report can read
/// its geometry (layer sizes, which inputs needed gradients) without the profiler knowing about layers.</param>
/// <param name="AllocatedBytes">Managed bytes allocated on the profiled thread inside the row's regions,
/// exclusive of its children (what a zero-allocation step must bring to 0).</param>
public sealed record OpTiming(string Phase, string Label, int[] InputShape, long Calls, double Seconds, object Sample, long AllocatedBytes = 0);

/// <summary>
/// What a profile keeps of an autograd node: the node object itself is recycled when its step's
/// <see cref="TensorScope"/> ends, so the profiler copies what a report reads.
/// </summary>
/// <param name="LeafInputs">Each input that was a leaf (a parameter, typically), else null: reports match weights by reference.</param>
/// <param name="InputRequiresGrad">Whether each input needed a gradient.</param>
public sealed record NodeSample(string Name, Tensor?[] LeafInputs, bool[] InputRequiresGrad)
{
    public static NodeSample Of(Autodiff.Node node)
    {
        var inputs = node.Inputs;
        var leaves = new Tensor?[inputs.Length];
        var needs = new bool[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            leaves[i] = inputs[i].IsLeaf ? inputs[i] : null;
            needs[i] = inputs[i].RequiresGrad;
        }
        return new NodeSample(node.Name, leaves, needs);
    }
}

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
        public long Calls, Ticks, Bytes;
    }

    private sealed class State
    {
        public bool On;
        public readonly Dictionary<(object Kind, int Shape), Entry> Entries = [];
        public readonly Dictionary<object, string> Labels = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<long> ChildTicks = new();
        public readonly Stack<long> ChildBytes = new();
        public readonly Stack<long> StartBytes = new();
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
        s.ChildBytes.Clear();
        s.StartBytes.Clear();
    }

    /// <summary>Opens a timed region; pair with <see cref="End"/>. Returns a timestamp.</summary>
    public static long Begin()
    {
        var s = Current;
        s.ChildTicks.Push(0);
        s.ChildBytes.Push(0);
        s.StartBytes.Push(GC.GetAllocatedBytesForCurrentThread());
        return Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Closes the region opened by <see cref="Begin"/>, charging its exclusive time to a key: the kind is a
    /// module instance (one row per layer) or a node name (one row per op kind and input shape).
    /// </summary>
    public static void End(long start, string phase, object kind, object sample, Func<object, string> label, ReadOnlySpan<int> inputShape)
    {
        long elapsed = Stopwatch.GetTimestamp() - start;
        long allocatedNow = GC.GetAllocatedBytesForCurrentThread();
        var s = Current;
        if (s.ChildTicks.Count == 0) return; // Reset inside a region: nothing to charge.
        long children = s.ChildTicks.Pop();
        if (s.ChildTicks.Count > 0) s.ChildTicks.Push(s.ChildTicks.Pop() + elapsed);
        long bytes = allocatedNow - s.StartBytes.Pop(), childBytes = s.ChildBytes.Pop();
        if (s.ChildBytes.Count > 0) s.ChildBytes.Push(s.ChildBytes.Pop() + bytes);
        // The shape joins the key as a hash, so a hot hook formats nothing and allocates nothing.
        var hash = new HashCode();
        foreach (int d in inputShape) hash.Add(d);
        int shape = hash.ToHashCode() ^ inputShape.Length;
        if (!s.Entries.TryGetValue((kind, shape), out var e))
        {
            if (!s.Labels.TryGetValue(kind, out var name)) s.Labels[kind] = name = label(sample);
            // A node is copied (it is recycled with its step); modules and labels live on.
            s.Entries[(kind, shape)] = e = new Entry(phase, name, inputShape.ToArray(), sample is Autodiff.Node node ? NodeSample.Of(node) : sample);
        }
        e.Calls++;
        e.Ticks += elapsed - children;
        e.Bytes += bytes - childBytes;
    }

    /// <summary>This thread's rows, longest first.</summary>
    public static IReadOnlyList<OpTiming> Snapshot() =>
        Current.Entries.Values
            .Select(e => new OpTiming(e.Phase, e.Label, e.Shape, e.Calls, e.Ticks / (double)Stopwatch.Frequency, e.Sample, e.Bytes))
            .OrderByDescending(t => t.Seconds)
            .ToList();
}
