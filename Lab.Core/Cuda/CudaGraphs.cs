using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>
/// The driver calls a capture makes on one stream. <see cref="CudaBackend"/> makes them through libcuda; host-only tests
/// put a fake here to check the state machine of <see cref="GraphRecorder"/> without a GPU.
/// </summary>
internal interface IStreamCapture
{
    /// <summary>cuStreamIsCapturing: whether the stream is recording now (begun by anyone).</summary>
    bool IsCapturing { get; }
    /// <summary>cuStreamBeginCapture_v2 in thread-local mode.</summary>
    void Begin();
    /// <summary>cuStreamEndCapture: the recorded CUgraph; throws when the capture was invalidated (the stream has stopped recording either way).</summary>
    nint End();
    /// <summary>cuGraphInstantiateWithFlags: an executable graph (CUgraphExec).</summary>
    nint Instantiate(nint graph);
    /// <summary>cuGraphLaunch on the stream.</summary>
    void Launch(nint exec);
    /// <summary>cuGraphExecDestroy (when <paramref name="exec"/> is not 0) and cuGraphDestroy.</summary>
    void Destroy(nint graph, nint exec);
}

/// <summary>
/// One backend's capture state: at most one capture at a time, on the thread that began it. While it runs, the
/// allocator puts the blocks it hands out and takes back into the capture's <see cref="GraphPool"/>, and
/// <see cref="ThrowIfCapturing"/> stops the operations a capture cannot record (waiting for the GPU, host uploads)
/// with an error naming them, before they reach the driver and invalidate the capture.
/// </summary>
internal sealed class GraphRecorder(IStreamCapture stream, CudaAllocator allocator, Device device)
{
    private GraphPool? _pool;
    private int _thread;

    public bool IsCapturing => _pool is not null;

    public void Begin()
    {
        if (_pool is not null)
            throw new InvalidOperationException($"{device}: BeginCapture was called while a capture is already running (captures do not nest); call EndCapture first.");
        if (stream.IsCapturing)
            throw new InvalidOperationException($"{device}: BeginCapture was called while the backend's stream is already being captured by other code.");
        var pool = allocator.BeginCapture();
        try { stream.Begin(); }
        catch
        {
            allocator.Release(pool);
            throw;
        }
        (_pool, _thread) = (pool, Environment.CurrentManagedThreadId);
    }

    /// <summary>Ends the capture (whatever happens, the stream is no longer recording afterwards) and instantiates the graph.</summary>
    public CudaGraph End()
    {
        var pool = _pool ?? throw new InvalidOperationException($"{device}: EndCapture was called without a BeginCapture.");
        _pool = null;
        allocator.EndCapture(pool);
        nint graph = 0;
        try
        {
            graph = stream.End();
            return new CudaGraph(this, stream, allocator, pool, graph, stream.Instantiate(graph), device);
        }
        catch
        {
            if (graph != 0) stream.Destroy(graph, 0);
            allocator.Release(pool);
            throw;
        }
    }

    /// <summary>
    /// Throws when a capture is running: <paramref name="operation"/> says what was attempted and <paramref name="why"/>
    /// why a graph cannot hold it.
    /// </summary>
    public void ThrowIfCapturing(string operation, string why)
    {
        if (_pool is not null)
            throw new InvalidOperationException($"{device}: {operation} was called while a CUDA graph is being captured: {why}. Do it before BeginCapture or after EndCapture.");
    }

    /// <summary>Work queued from another thread during a capture would be recorded into it.</summary>
    public void ThrowIfOtherThread()
    {
        if (_pool is not null && Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException($"{device} is capturing a CUDA graph on thread {_thread}; work from thread {Environment.CurrentManagedThreadId} would be recorded into it. Use the device from the capturing thread until EndCapture.");
    }
}

/// <summary>
/// A captured, instantiated CUDA graph. It writes to the device addresses it was captured with on every launch:
/// the tensors its kernels read and write must stay alive, and the blocks it used while being captured stay
/// reserved for it (<see cref="CudaMemoryStats.GraphHeld"/>) until it is disposed.
/// </summary>
internal sealed class CudaGraph(GraphRecorder recorder, IStreamCapture stream, CudaAllocator allocator, GraphPool pool, nint graph, nint exec, Device device)
    : ICapturedGraph
{
    private bool _disposed;

    public void Launch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        recorder.ThrowIfCapturing("Launch of a captured graph", "graphs are launched between captures, not recorded into them");
        stream.Launch(exec);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { stream.Destroy(graph, exec); }
        finally { allocator.Release(pool); }
    }

    public override string ToString() => $"CUDA graph on {device}{(_disposed ? " (disposed)" : "")}";
}
