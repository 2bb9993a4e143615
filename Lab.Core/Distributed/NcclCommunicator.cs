using System.Diagnostics.CodeAnalysis;
using Lab.Core.Backends;
using Lab.Core.Cuda;

namespace Lab.Core.Distributed;

/// <summary>
/// NCCL over the ranks of an MPI job, one GPU per rank (as PyTorch's DistributedDataParallel with the nccl backend):
/// rank 0's ncclUniqueId goes to every rank over MPI, then ncclCommInitRank. Tensors on the rank's GPU are reduced
/// and broadcast in place on the CUDA backend's stream, queued after the kernels that made them (the host does not
/// wait); host buffers go over MPI.
/// </summary>
public sealed unsafe class NcclCommunicator : Communicator
{
    private readonly Communicator _host;
    private readonly CudaBackend _backend;
    private nint _comm;

    /// <param name="host">The MPI communicator of the same ranks (carries the id and the host collectives).</param>
    /// <param name="device">This rank's GPU.</param>
    public NcclCommunicator(Communicator host, Device device)
    {
        if (device.Type != DeviceType.Cuda) throw new ArgumentException($"NcclCommunicator: NCCL works on CUDA devices, got {device}.");
        _host = host;
        // The GPU first: on a machine without one that is the error to see, before any library.
        _backend = BackendRegistry.For(device) as CudaBackend ?? throw new DeviceUnavailableException($"NCCL: {device} has no CUDA backend");
        Nccl.Load();
        Nccl.UniqueId id;
        if (host.IsRoot) Nccl.Check(Nccl.GetUniqueId(&id), "ncclGetUniqueId");
        host.Broadcast(new Span<byte>(id.Bytes, 128));
        nint comm;
        _ = _backend.Stream;   // the device's context current on this thread
        Nccl.Check(Nccl.CommInitRank(&comm, host.Size, id, host.Rank), "ncclCommInitRank");
        _comm = comm;
        Name = $"{Nccl.Version()} over {host.Name}";
        Device = device;
    }

    public override int Rank => _host.Rank;
    public override int Size => _host.Size;
    public override string Name { get; }
    public Device Device { get; }

    public override void AllReduce(Tensor tensor, AllReduceOp op = AllReduceOp.Sum)
    {
        if (tensor.Storage is not CudaStorage || tensor.Device != Device) { base.AllReduce(tensor, op); return; }
        if (tensor.Numel == 0) return;
        ulong p = _backend.AddressOf(tensor);
        Nccl.Check(Nccl.AllReduce(p, p, (nuint)tensor.Numel, Nccl.Float32, Nccl.RedSum, Open(), _backend.Stream), "ncclAllReduce");
        if (op == AllReduceOp.Mean) _backend.Unary(UnaryOp.Affine, tensor, tensor, 1f / Size, 0);
    }

    public override void Broadcast(Tensor tensor, int root = 0)
    {
        CheckRoot(root, "Broadcast");
        if (tensor.Storage is not CudaStorage || tensor.Device != Device) { base.Broadcast(tensor, root); return; }
        if (tensor.Numel == 0) return;
        ulong p = _backend.AddressOf(tensor);
        Nccl.Check(Nccl.Broadcast(p, p, (nuint)tensor.Numel, Nccl.Float32, root, Open(), _backend.Stream), "ncclBroadcast");
    }

    public override void AllReduce(Span<float> values, AllReduceOp op = AllReduceOp.Sum) => _host.AllReduce(values, op);
    public override void AllReduce(Span<double> values, AllReduceOp op = AllReduceOp.Sum) => _host.AllReduce(values, op);
    public override void Broadcast(Span<float> values, int root = 0) => _host.Broadcast(values, root);
    public override void Broadcast(Span<byte> values, int root = 0) => _host.Broadcast(values, root);

    /// <summary>Waits for this rank's queued GPU work, then for every rank.</summary>
    public override void Barrier()
    {
        _backend.Synchronize();
        _host.Barrier();
    }

    [DoesNotReturn]
    public override void Abort(int exitCode) => _host.Abort(exitCode);

    private nint Open() => _comm != 0 ? _comm : throw new ObjectDisposedException(nameof(NcclCommunicator), "NCCL: the communicator was disposed.");

    public override void Dispose()
    {
        if (_comm != 0)
        {
            _backend.Synchronize();
            Nccl.CommDestroy(_comm);
            _comm = 0;
        }
        _host.Dispose();
        base.Dispose();
    }
}
