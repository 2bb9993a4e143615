namespace Lab.Core.Cuda;

/// <summary>
/// Host-to-device copies through page-locked buffers. From pageable (managed) memory the driver may
/// wait for the stream before copying; from a pinned buffer the copy is queued and the call returns at
/// once, so uploading a batch does not stall the host behind the previous step. Four buffers rotate;
/// a buffer is refilled only after the event recorded behind its last copy has passed.
/// </summary>
internal sealed unsafe class PinnedStaging
{
    private const int Slots = 4;
    private const long MaxStagedBytes = 64L << 20;
    private readonly nint[] _host = new nint[Slots];
    private readonly long[] _capacity = new long[Slots];
    private readonly nint[] _done = new nint[Slots];
    private readonly bool[] _pending = new bool[Slots];
    private readonly Lock _lock = new();
    private int _next;

    public PinnedStaging()
    {
        for (int i = 0; i < Slots; i++)
        {
            nint e;
            CudaDriver.Check(CudaDriver.cuEventCreate(&e, CudaDriver.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            _done[i] = e;
        }
    }

    public void Upload(ReadOnlySpan<float> src, ulong dst, nint stream)
    {
        long bytes = (long)src.Length * sizeof(float);
        if (bytes == 0) return;
        if (bytes > MaxStagedBytes)
        {
            fixed (float* p = src) CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(dst, p, (nuint)bytes, stream), "cuMemcpyHtoDAsync");
            return;
        }
        lock (_lock)
        {
            int s = _next;
            _next = (_next + 1) % Slots;
            if (_pending[s]) CudaDriver.Check(CudaDriver.cuEventSynchronize(_done[s]), "cuEventSynchronize");
            _pending[s] = false;
            if (_capacity[s] < bytes)
            {
                if (_host[s] != 0) CudaDriver.Check(CudaDriver.cuMemFreeHost((void*)_host[s]), "cuMemFreeHost");
                long capacity = Math.Max(64 << 10, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)bytes));
                void* h;
                CudaDriver.Check(CudaDriver.cuMemAllocHost(&h, (nuint)capacity), "cuMemAllocHost");
                (_host[s], _capacity[s]) = ((nint)h, capacity);
            }
            src.CopyTo(new Span<float>((void*)_host[s], src.Length));
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(dst, (void*)_host[s], (nuint)bytes, stream), "cuMemcpyHtoDAsync");
            CudaDriver.Check(CudaDriver.cuEventRecord(_done[s], stream), "cuEventRecord");
            _pending[s] = true;
        }
    }
}
