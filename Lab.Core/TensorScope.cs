using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>
/// Recycles everything a training step makes: the host memory of its tensors, and (by default) the tensor
/// and autograd-node objects themselves. A step allocates the same buffers and objects in the same sizes
/// every time; inside a scope they are taken from per-thread pools and all handed back when the scope ends,
/// so a steady-state step allocates nothing on the managed heap (the megabyte-sized activations of a CNN
/// would otherwise go to the large-object heap and cost full collections, and the small objects gen-0 ones).
/// <para>
/// A tensor made inside a scope must not be used after it. Until its object is handed out again, any use
/// throws an <see cref="ObjectDisposedException"/> naming the scope. Once the next scope reuses the object,
/// a reference kept from before sees whatever tensor now lives in it. Set the environment variable
/// <c>GENLAB_SCOPE_CHECK=1</c> (or <see cref="RecycleObjects"/> = false) to stop reusing tensor and node
/// objects: then every late use throws, at the price of a few hundred bytes per op. Memory that must outlive
/// the step (accumulated gradients, optimizer state, caches) is allocated under <see cref="Suspend"/>.
/// </para>
/// <para>
/// <see cref="TensorScope"/> is a handle (a struct): beginning and ending a scope allocates nothing, and
/// disposing a handle twice is harmless.
/// </para>
/// </summary>
/// <example><code>
/// foreach (var batch in loader.Epoch())
///     using (TensorScope.Begin()) { optimizer.ZeroGrad(); loss(model, batch).Backward(); optimizer.Step(); }
/// </code></example>
public readonly struct TensorScope : IDisposable
{
    /// <summary>The state of one begun scope; frames are pooled per thread, a generation tells a handle its frame is gone.</summary>
    private sealed class Frame
    {
        public Frame? Parent;
        public bool Suspended, Recycling;
        public int Generation;
        public readonly List<CpuStorage> Storages = [];
        public readonly List<Tensor> Tensors = [];
        public readonly List<Node> Nodes = [];
        public readonly List<Tensor> GradHolders = [];
    }

    /// <summary>
    /// Largest rank whose tensor objects are pooled: every rank an op's stack buffers take. A tensor of higher rank
    /// is an ordinary object whose buffer is still recycled, so it too must not be used after its scope.
    /// </summary>
    private const int MaxPooledRank = ShapeUtil.MaxStackRank;

    [ThreadStatic] private static Frame? t_current;
    [ThreadStatic] private static Stack<Frame>? t_frames;
    [ThreadStatic] private static Dictionary<int, Stack<CpuStorage>>? t_storages;
    [ThreadStatic] private static Stack<Tensor>[]? t_tensors;

    private readonly Frame? _frame;
    private readonly int _generation;

    private TensorScope(Frame frame)
    {
        _frame = frame;
        _generation = frame.Generation;
    }

    /// <summary>
    /// Whether scopes reuse tensor and node objects (the default). False when the environment variable
    /// <c>GENLAB_SCOPE_CHECK</c> is 1 at start-up: buffers are still pooled, objects are not, and every
    /// use of a tensor after its scope throws.
    /// </summary>
    public static bool RecycleObjects { get; set; } = Environment.GetEnvironmentVariable("GENLAB_SCOPE_CHECK") != "1";

    /// <summary>Starts a scope on this thread; nested scopes hand back their own tensors first.</summary>
    public static TensorScope Begin() => Push(suspended: false, RecycleObjects);

    /// <summary>Starts a scope that pools buffers but never reuses tensor or node objects, whatever <see cref="RecycleObjects"/> says.</summary>
    public static TensorScope BeginChecked() => Push(suspended: false, recycling: false);

    /// <summary>Within the returned scope, allocations are ordinary (they outlive the enclosing scope).</summary>
    public static TensorScope Suspend() => Push(suspended: true, recycling: false);

    private static TensorScope Push(bool suspended, bool recycling)
    {
        var frames = t_frames ??= new Stack<Frame>();
        var frame = frames.Count > 0 ? frames.Pop() : new Frame();
        frame.Parent = t_current;
        frame.Suspended = suspended;
        frame.Recycling = recycling;
        t_current = frame;
        return new TensorScope(frame);
    }

    /// <summary>Whether host allocations on this thread are currently pooled.</summary>
    public static bool IsActive => t_current is { Suspended: false };

    /// <summary>Whether tensor and node objects made now on this thread come from (and go back to) the pools.</summary>
    internal static bool IsRecycling => t_current is { Suspended: false, Recycling: true };

    /// <summary>Floats held by this thread's pool for reuse (the peak working set of the scopes it served).</summary>
    public static long PooledFloats => t_storages?.Sum(kv => (long)kv.Key * kv.Value.Count) ?? 0;

    /// <summary>Lets this thread's pooled buffers and objects go to the garbage collector.</summary>
    public static void TrimPool()
    {
        t_storages?.Clear();
        t_tensors = null;
    }

    /// <summary>A pooled storage when a scope is active on this thread, otherwise null.</summary>
    internal static CpuStorage? TryRent(int length)
    {
        var frame = t_current;
        if (frame is null || frame.Suspended || length == 0) return null;
        var pool = t_storages ??= [];
        CpuStorage storage;
        if (pool.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            storage = stack.Pop();
            storage.Revive();
        }
        else storage = new CpuStorage(GC.AllocateUninitializedArray<float>(length));
        frame.Storages.Add(storage);
        return storage;
    }

    /// <summary>A pooled tensor object of the given rank when a recycling scope is active, otherwise null.</summary>
    internal static Tensor? TryRentTensor(int rank)
    {
        var frame = t_current;
        if (frame is not { Suspended: false, Recycling: true } || rank > MaxPooledRank) return null;
        var pools = t_tensors ??= new Stack<Tensor>[MaxPooledRank + 1];
        var stack = pools[rank] ??= new Stack<Tensor>();
        var tensor = stack.Count > 0 ? stack.Pop() : Tensor.NewPooled(rank);
        tensor.ScopeOwner = frame;
        frame.Tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Whether <paramref name="t"/> was made by the innermost scope and so dies with it (what belongs to it may too).</summary>
    internal static bool CurrentOwns(Tensor t) => t.ScopeOwner is not null && ReferenceEquals(t.ScopeOwner, t_current);

    /// <summary>
    /// Notes that <paramref name="leaf"/>'s Grad was set to <paramref name="grad"/> (a graph-connected gradient of a
    /// createGraph backward pass): when the scope that made <paramref name="grad"/> ends, the Grad is cleared
    /// rather than left pointing at a recycled tensor.
    /// </summary>
    internal static void TrackGrad(Tensor leaf, Tensor grad)
    {
        if (grad.ScopeOwner is Frame frame) frame.GradHolders.Add(leaf);
    }

    /// <summary>Registers a node rented from its type's pool, so that the scope hands it back at its end.</summary>
    internal static void Track(Node node) => t_current!.Nodes.Add(node);

    public void Dispose()
    {
        var frame = _frame;
        if (frame is null || frame.Generation != _generation) return;  // default handle, or already ended
        if (t_current != frame)
            throw new InvalidOperationException("TensorScope: scopes must end in the reverse order of their beginning, on the thread that began them.");
        t_current = frame.Parent;
        frame.Generation++;
        frame.Parent = null;

        // Grads that point into this scope first, then nodes (they hold tensors), then tensors, which hold storages.
        foreach (var leaf in frame.GradHolders)
            if (leaf.Grad is { } grad && ReferenceEquals(grad.ScopeOwner, frame)) leaf.Grad = null;
        frame.GradHolders.Clear();
        foreach (var node in frame.Nodes) node.Recycle();
        frame.Nodes.Clear();
        if (frame.Tensors.Count > 0)
        {
            var pools = t_tensors ??= new Stack<Tensor>[MaxPooledRank + 1];   // TrimPool may have run inside the scope
            foreach (var t in frame.Tensors)
            {
                t.ReleaseToPool();
                (pools[t.Rank] ??= new Stack<Tensor>()).Push(t);
            }
            frame.Tensors.Clear();
        }
        if (frame.Storages.Count > 0)
        {
            var pool = t_storages ??= [];
            foreach (var storage in frame.Storages)
            {
                storage.Release();
                if (!pool.TryGetValue(storage.Length, out var stack)) pool[storage.Length] = stack = new Stack<CpuStorage>();
                // Without object recycling a late user of the old storage object must keep failing: pool a new wrapper.
                stack.Push(frame.Recycling ? storage : new CpuStorage(storage.ReleasedData));
            }
            frame.Storages.Clear();
        }
        t_frames!.Push(frame);
    }
}
