using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>What a collective library (NCCL) needs to queue work beside the backend's kernels: the stream and addresses.</summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>The stream every kernel of this backend is queued on (NCCL's collectives join it, in order).</summary>
    internal nint Stream { get { Enter(); return _stream; } }

    /// <summary>The device address of a view's first element on this backend.</summary>
    internal ulong AddressOf(in StorageView view) => Ptr(view).Address;
}
