using System.Numerics;

namespace Lab.Core.Cuda;

/// <summary>
/// Memory counters of one device's caching allocator (bytes unless named otherwise). <paramref name="GraphHeld"/> is
/// freed memory kept for the captured graphs that still write to it (reusable again once they are disposed).
/// </summary>
public readonly record struct CudaMemoryStats(long InUse, long Cached, long Reserved, long DriverAllocations, long CacheHits, int Collections,
    long GraphHeld = 0);

/// <summary>Where device blocks come from: the driver (cuMemAlloc/cuMemFree), or a fake in host-only tests.</summary>
internal interface IDeviceMemory
{
    /// <summary>A CUresult; <paramref name="capturing"/> when the calling thread is capturing a graph.</summary>
    int Allocate(long bytes, bool capturing, out ulong ptr);
    void Free(ulong ptr);
}

/// <summary>
/// A caching allocator: freed blocks go to a free list per size class and are handed out again
/// without cuMemAlloc (which synchronises and costs microseconds to milliseconds). Sizes round up to
/// four classes per power of two (at most 25% slack). Reuse needs no event: everything runs on one
/// stream, so work queued on a recycled block always follows the work that used it before.
/// Device memory is invisible to the garbage collector, which frees storages only when managed memory
/// runs short, so the allocator forces a collection whenever the bytes held by storages have doubled,
/// and grown by at least a sixteenth of the device (1 GiB at least), since what the last collection
/// left alive; and when the driver runs out, it collects, then gives the cache back and retries.
/// (Measured on an H100: triggering on reserved rather than live bytes let 20 MB of live tensors hold
/// 27 GB; trimming the cache whenever it outgrew the live set cost a stream sync and fresh cuMemAllocs
/// inside timed loops.)
/// While a graph is captured, every block rented or given back belongs to that graph's <see cref="GraphPool"/>
/// (PyTorch's private pools): a captured kernel writes to the same addresses on every launch, so a block it uses
/// must not serve anyone else until the graph is disposed. Blocks freed during the capture serve the same capture
/// again (its kernels run in the recorded order, as on the stream).
/// </summary>
internal sealed unsafe class CudaAllocator(Action synchronize, long deviceBytes, IDeviceMemory? memory = null)
{
    private readonly IDeviceMemory _memory = memory ?? DriverMemory.Instance;
    private readonly long _minGrowth = Math.Max(1L << 30, deviceBytes / 16);
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly Dictionary<ulong, GraphPool> _poolOf = [];
    private readonly Lock _lock = new();
    private GraphPool? _capturing;
    private long _inUse, _cached, _graphHeld, _reserved, _driverAllocations, _cacheHits;
    private long _nextCollectAt = Math.Max(1L << 30, deviceBytes / 16);
    private int _collections;

    public CudaMemoryStats Stats
    {
        get { lock (_lock) return new(_inUse, _cached, _reserved, _driverAllocations, _cacheHits, _collections, _graphHeld); }
    }

    /// <summary>The size class of a request: 512 bytes at least, then steps of a quarter power of two.</summary>
    public static long SizeClass(long bytes)
    {
        if (bytes <= 512) return 512;
        long pow = 1L << (63 - BitOperations.LeadingZeroCount((ulong)(bytes - 1))); // pow < bytes <= 2 pow
        long step = pow / 4;
        return (bytes + step - 1) / step * step;
    }

    /// <summary>A device block of at least <paramref name="bytes"/>; its class size is what Return takes back.</summary>
    public ulong Rent(long bytes, out long size)
    {
        size = SizeClass(bytes);
        if (TryReuse(size, out var ptr)) return ptr;
        bool grow, capturing;
        lock (_lock) (grow, capturing) = (_inUse + size > _nextCollectAt, _capturing is not null);
        if (grow && CollectAndReuse(size, out ptr)) return ptr;
        int r = _memory.Allocate(size, capturing, out ptr);
        if (r == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY)
        {
            if (CollectAndReuse(size, out ptr)) return ptr;
            // Giving the cache back waits for the stream, which a capture cannot do.
            if (!capturing)
            {
                EmptyCache();
                r = _memory.Allocate(size, capturing, out ptr);
            }
            if (r == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY)
            {
                var s = Stats;
                throw new CudaException($"CUDA out of memory{(capturing ? " while capturing a graph" : "")}: {size:N0} bytes requested with {s.InUse:N0} in use by live tensors"
                    + $"{(s.GraphHeld > 0 ? $" and {s.GraphHeld:N0} held by captured graphs" : "")} (cuMemAlloc: {CudaDriver.Describe(r)})");
            }
        }
        CudaDriver.Check(r, "cuMemAlloc");
        lock (_lock)
        {
            _reserved += size;
            _inUse += size;
            _driverAllocations++;
            if (_capturing is { } pool) Adopt(pool, ptr);
        }
        return ptr;
    }

    /// <summary>Takes a block back (any thread, finalizers included); it is reused, not freed.</summary>
    public void Return(ulong ptr, long size)
    {
        lock (_lock)
        {
            _inUse -= size;
            // A block a captured graph uses (or one freed while capturing, which the capture may have used) waits for the graph.
            if (!_poolOf.TryGetValue(ptr, out var pool) && _capturing is { } capturing) Adopt(pool = capturing, ptr);
            if (pool is not null)
            {
                Push(pool.Free, size, ptr);
                _graphHeld += size;
                return;
            }
            Push(_free, size, ptr);
            _cached += size;
        }
    }

    private bool TryReuse(long size, out ulong ptr)
    {
        lock (_lock)
        {
            if (_capturing is { } pool && pool.Free.TryGetValue(size, out var own) && own.TryPop(out ptr))
            {
                _graphHeld -= size;
                _inUse += size;
                _cacheHits++;
                return true;
            }
            if (_free.TryGetValue(size, out var stack) && stack.TryPop(out ptr))
            {
                _cached -= size;
                _inUse += size;
                _cacheHits++;
                if (_capturing is { } capturing) Adopt(capturing, ptr);
                return true;
            }
        }
        ptr = 0;
        return false;
    }

    private static void Push(Dictionary<long, Stack<ulong>> lists, long size, ulong ptr)
    {
        if (!lists.TryGetValue(size, out var stack)) lists[size] = stack = new Stack<ulong>();
        stack.Push(ptr);
    }

    private void Adopt(GraphPool pool, ulong ptr)
    {
        _poolOf[ptr] = pool;
        pool.Blocks.Add(ptr);
    }

    // ---- graph capture ----

    /// <summary>From now on, blocks rented or returned belong to a new pool (see the class summary).</summary>
    public GraphPool BeginCapture()
    {
        lock (_lock)
        {
            if (_capturing is not null) throw new InvalidOperationException("The CUDA allocator is already capturing into a graph pool.");
            return _capturing = new GraphPool();
        }
    }

    /// <summary>Blocks rented or returned from now on are the device's again; the pool keeps what it holds.</summary>
    public void EndCapture(GraphPool pool)
    {
        lock (_lock)
            if (ReferenceEquals(_capturing, pool)) _capturing = null;
    }

    /// <summary>
    /// The graph is gone: its freed blocks go back to the device's free lists and its live ones will when their
    /// storages are collected. Work already queued on them stays ahead of any new use (one stream).
    /// </summary>
    public void Release(GraphPool pool)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_capturing, pool)) _capturing = null;
            foreach (var ptr in pool.Blocks)
                if (_poolOf.TryGetValue(ptr, out var owner) && ReferenceEquals(owner, pool)) _poolOf.Remove(ptr);
            foreach (var (size, stack) in pool.Free)
                while (stack.TryPop(out var ptr))
                {
                    Push(_free, size, ptr);
                    _graphHeld -= size;
                    _cached += size;
                }
            pool.Blocks.Clear();
        }
    }

    // The finalizers that return blocks take the lock, so it must not be held here.
    private bool CollectAndReuse(long size, out ulong ptr)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        lock (_lock)
        {
            _collections++;
            _nextCollectAt = Math.Max(2 * _inUse, _inUse + _minGrowth);
        }
        return TryReuse(size, out ptr);
    }

    /// <summary>Gives every cached block back to the driver (after the stream has finished with them).</summary>
    public void EmptyCache()
    {
        synchronize();
        lock (_lock)
        {
            foreach (var (size, stack) in _free)
                while (stack.TryPop(out var p))
                {
                    _memory.Free(p);
                    _cached -= size;
                    _reserved -= size;
                }
        }
    }
}

/// <summary>The blocks one captured graph uses: every block rented or given back while it was captured.</summary>
internal sealed class GraphPool
{
    public readonly HashSet<ulong> Blocks = [];
    /// <summary>Those given back: reusable by the same capture only, until the graph is disposed.</summary>
    public readonly Dictionary<long, Stack<ulong>> Free = [];
}

/// <summary>
/// cuMemAlloc and cuMemFree. A capture records no allocation (the graph keeps the address it was given and a
/// launch allocates nothing), but the capturing thread's mode forbids cuMemAlloc as potentially unsafe, so it
/// is relaxed around the call, as PyTorch's allocator does; the block then belongs to the graph's pool.
/// </summary>
internal sealed unsafe class DriverMemory : IDeviceMemory
{
    public static readonly DriverMemory Instance = new();

    public int Allocate(long bytes, bool capturing, out ulong ptr)
    {
        ulong p;
        if (!capturing)
        {
            int r = CudaDriver.cuMemAlloc(&p, (nuint)bytes);
            ptr = p;
            return r;
        }
        int mode = CudaDriver.CU_STREAM_CAPTURE_MODE_RELAXED;
        CudaDriver.Check(CudaDriver.cuThreadExchangeStreamCaptureMode(&mode), "cuThreadExchangeStreamCaptureMode");
        try
        {
            int r = CudaDriver.cuMemAlloc(&p, (nuint)bytes);
            ptr = p;
            return r;
        }
        finally
        {
            CudaDriver.Check(CudaDriver.cuThreadExchangeStreamCaptureMode(&mode), "cuThreadExchangeStreamCaptureMode");
        }
    }

    public void Free(ulong ptr) => CudaDriver.cuMemFree(ptr);
}
