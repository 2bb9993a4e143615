using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>
/// Device memory of one CUDA device: a block of the backend's caching allocator, returned to it when
/// the storage is collected (tensors have no Dispose; the allocator forces collections as memory grows).
/// </summary>
public sealed class CudaStorage : Storage
{
    private readonly CudaBackend _backend;
    private readonly long _blockBytes;

    internal CudaStorage(CudaBackend backend, int length) : base(length)
    {
        _backend = backend;
        if (length > 0) Pointer = backend.Allocator.Rent((long)length * sizeof(float), out _blockBytes);
    }

    /// <summary>The device address of element 0 (0 for an empty storage).</summary>
    public ulong Pointer { get; }

    public override Device Device => _backend.Device;
    public override IBackend Backend => _backend;

    ~CudaStorage()
    {
        if (Pointer != 0) _backend.Allocator.Return(Pointer, _blockBytes);
    }
}
