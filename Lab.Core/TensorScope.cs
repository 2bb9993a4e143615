using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>
/// Recycles what a training step makes: the host memory of its tensors and its autograd nodes (and, in a
/// recycling scope, the tensor objects too). A step allocates the same buffers and objects in the same sizes
/// every time; inside a scope they are taken from per-thread pools and all handed back when the scope ends
/// (the megabyte-sized activations of a CNN would otherwise go to the large-object heap and cost full collections).
/// <para>
/// A tensor made inside a scope dies with it: every later use (reading it, passing it to an op, its shape's
/// storage, its GradFn, Backward) throws an <see cref="ObjectDisposedException"/> (an InvalidOperationException)
/// saying "Tensor used after its TensorScope ended", never another step's data. Each tensor is stamped with the
/// scope that made it and that scope's generation; one comparison per access checks it. What must outlive the step
/// (accumulated gradients, optimizer state, caches, a copy to keep) is made under <see cref="Suspend"/>.
/// </para>
/// <para>
/// A <see cref="Begin"/> scope makes new tensor objects (a few dozen bytes each, short-lived gen-0 garbage) so that
/// the check always holds. <see cref="BeginRecycling"/> (or <see cref="RecycleObjects"/>, or the environment variable
/// <c>GENLAB_SCOPE_RECYCLE=1</c>) reuses them too and a steady-state step allocates nothing; but a tensor reference kept
/// past such a scope throws only until its object is reused, and then it is the later step's tensor.
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
    /// <summary>
    /// The state of one begun scope; frames are pooled per thread. The generation moves on when the scope ends: a handle,
    /// or a tensor stamped with the generation it saw, then knows its scope is gone.
    /// </summary>
    internal sealed class Frame
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

    private static readonly bool RecycleByDefault =
        Environment.GetEnvironmentVariable("GENLAB_SCOPE_RECYCLE") == "1" && Environment.GetEnvironmentVariable("GENLAB_SCOPE_CHECK") != "1";
    [ThreadStatic] private static bool? t_recycleObjects;

    /// <summary>
    /// Whether <see cref="Begin"/> on this thread also reuses tensor objects (see <see cref="BeginRecycling"/>). Off by
    /// default, so that every late use of a tensor throws; the environment variable <c>GENLAB_SCOPE_RECYCLE=1</c> turns it
    /// on for the whole process. Setting it applies to the calling thread (scopes and their pools are per thread).
    /// </summary>
    public static bool RecycleObjects
    {
        get => t_recycleObjects ?? RecycleByDefault;
        set => t_recycleObjects = value;
    }

    /// <summary>
    /// Starts a scope on this thread; nested scopes hand back their own tensors first. Buffers and autograd nodes are
    /// pooled; tensor objects are new (a few dozen bytes each), so that a tensor kept past the scope always throws.
    /// </summary>
    public static TensorScope Begin() => Push(suspended: false, RecycleObjects);

    /// <summary>
    /// Starts a scope that also reuses tensor objects, so that a steady-state step allocates nothing at all. The price:
    /// a tensor kept past the scope throws only until its object is handed out again, and after that it <em>is</em> a
    /// later step's tensor. For loops whose tensors provably stay inside the step.
    /// </summary>
    public static TensorScope BeginRecycling() => Push(suspended: false, recycling: true);

    /// <summary>Starts a scope that never reuses tensor objects, whatever <see cref="RecycleObjects"/> says.</summary>
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

    /// <summary>The scope that tensors made now on this thread belong to (null outside scopes and under <see cref="Suspend"/>).</summary>
    internal static Frame? CurrentFrame => t_current is { Suspended: false } frame ? frame : null;

    /// <summary>Floats held by this thread's pool for reuse (the peak working set of the scopes it served).</summary>
    public static long PooledFloats => t_storages?.Sum(kv => (long)kv.Key * kv.Value.Count) ?? 0;

    /// <summary>Tensor objects the innermost scope has handed out from its pool so far (a recycling scope's count of the tensors it made).</summary>
    internal static int TensorsInCurrentScope => t_current?.Tensors.Count ?? 0;

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
        frame.Tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Whether <paramref name="t"/> was made by the innermost scope and so dies with it (what belongs to it may too).</summary>
    internal static bool CurrentOwns(Tensor t) => t_current is { } frame && t.MadeBy(frame);

    /// <summary>
    /// Notes that <paramref name="leaf"/>'s Grad was set to <paramref name="grad"/> (a graph-connected gradient of a
    /// createGraph backward pass): when the scope that made <paramref name="grad"/> ends, the Grad is cleared
    /// rather than left pointing at a recycled tensor.
    /// </summary>
    internal static void TrackGrad(Tensor leaf, Tensor grad)
    {
        if (grad.ScopeOwner is { } frame && grad.MadeBy(frame)) frame.GradHolders.Add(leaf);
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
                stack.Push(storage);   // a tensor still viewing it is stamped with this scope, so it cannot read the next user's data
            }
            frame.Storages.Clear();
        }
        t_frames!.Push(frame);
    }
}
