using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>
/// Recycles the host memory of the tensors made inside it. A training step allocates the same buffers in
/// the same sizes every time; inside a scope they are rented from a per-thread pool and all handed back
/// when the scope ends, so a steady-state step allocates no float arrays (the megabyte-sized activations of
/// a CNN would otherwise go to the large-object heap and cost full collections).
/// <para>
/// A tensor made inside a scope must not be used after it: its storage is marked released and any later
/// read or write throws an <see cref="ObjectDisposedException"/> naming the tensor, instead of silently
/// seeing another tensor's numbers. Memory that must outlive the step (accumulated gradients, optimizer
/// state) is allocated under <see cref="Suspend"/>.
/// </para>
/// </summary>
/// <example><code>
/// foreach (var batch in loader.Epoch())
///     using (TensorScope.Begin()) { optimizer.ZeroGrad(); loss(model, batch).Backward(); optimizer.Step(); }
/// </code></example>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    [ThreadStatic] private static Dictionary<int, Stack<float[]>>? _pool;

    private readonly TensorScope? _parent;
    private readonly bool _suspended;
    private readonly List<CpuStorage> _rented = [];
    private bool _disposed;

    private TensorScope(TensorScope? parent, bool suspended)
    {
        _parent = parent;
        _suspended = suspended;
    }

    /// <summary>Starts a scope on this thread; nested scopes hand back their own tensors first.</summary>
    public static TensorScope Begin() => _current = new TensorScope(_current, suspended: false);

    /// <summary>Within the returned scope, allocations are ordinary (they outlive the enclosing scope).</summary>
    public static TensorScope Suspend() => _current = new TensorScope(_current, suspended: true);

    /// <summary>Whether host allocations on this thread are currently pooled.</summary>
    public static bool IsActive => _current is { _suspended: false };

    /// <summary>Floats held by this thread's pool for reuse (the peak working set of the scopes it served).</summary>
    public static long PooledFloats => _pool?.Sum(kv => (long)kv.Key * kv.Value.Count) ?? 0;

    /// <summary>Lets this thread's pooled buffers go to the garbage collector.</summary>
    public static void TrimPool() => _pool?.Clear();

    /// <summary>A pooled storage when a scope is active on this thread, otherwise null.</summary>
    internal static CpuStorage? TryRent(int length)
    {
        var scope = _current;
        if (scope is null || scope._suspended || length == 0) return null;
        _pool ??= [];
        float[] data = _pool.TryGetValue(length, out var stack) && stack.Count > 0
            ? stack.Pop()
            : GC.AllocateUninitializedArray<float>(length);
        var storage = new CpuStorage(data);
        scope._rented.Add(storage);
        return storage;
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_current != this)
            throw new InvalidOperationException("TensorScope: scopes must end in the reverse order of their beginning, on the thread that began them.");
        _disposed = true;
        _current = _parent;
        if (_rented.Count == 0) return;
        _pool ??= [];
        foreach (var storage in _rented)
        {
            storage.Release();
            if (!_pool.TryGetValue(storage.Length, out var stack)) _pool[storage.Length] = stack = new Stack<float[]>();
            stack.Push(storage.ReleasedData);
        }
        _rented.Clear();
    }
}
