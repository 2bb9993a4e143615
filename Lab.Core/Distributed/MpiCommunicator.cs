using System.Diagnostics.CodeAnalysis;

namespace Lab.Core.Distributed;

/// <summary>
/// The ranks of an MPI job (MPI_COMM_WORLD) over Open MPI: CPUs on one machine or a cluster, started by mpirun or srun.
/// MPI_Init runs once per process (<see cref="Initialize"/> returns the same communicator afterwards) and MPI_Finalize
/// when it is disposed. Collectives block until every rank has joined.
/// </summary>
public sealed unsafe class MpiCommunicator : Communicator
{
    private static MpiCommunicator? _world;
    private static readonly Lock Gate = new();
    private bool _finalized;

    private MpiCommunicator()
    {
        int rank, size;
        Mpi.Check(Mpi.CommRank(Mpi.CommWorld, &rank), "MPI_Comm_rank");
        Mpi.Check(Mpi.CommSize(Mpi.CommWorld, &size), "MPI_Comm_size");
        (Rank, Size, Name) = (rank, size, Mpi.LibraryVersion());
    }

    /// <summary>Loads Open MPI and initialises it (once per process): throws DllNotFoundException naming what to install.</summary>
    public static MpiCommunicator Initialize()
    {
        lock (Gate)
        {
            if (_world is { _finalized: false }) return _world;
            if (_world is not null) throw new InvalidOperationException("MPI: already finalised in this process (MPI_Init may run only once per process).");
            Mpi.Load();
            int initialized;
            Mpi.Check(Mpi.Initialized(&initialized), "MPI_Initialized");
            if (initialized == 0) Mpi.Check(Mpi.Init(null, null), "MPI_Init");
            return _world = new MpiCommunicator();
        }
    }

    public override int Rank { get; }
    public override int Size { get; }
    public override string Name { get; }

    public override void AllReduce(Span<float> values, AllReduceOp op = AllReduceOp.Sum)
    {
        fixed (float* p = values) Reduce(p, values.Length, sizeof(float), Mpi.Float);
        if (op == AllReduceOp.Mean) Scale(values, 1f / Size);
    }

    public override void AllReduce(Span<double> values, AllReduceOp op = AllReduceOp.Sum)
    {
        fixed (double* p = values) Reduce(p, values.Length, sizeof(double), Mpi.Double);
        if (op == AllReduceOp.Mean) foreach (ref var v in values) v /= Size;
    }

    public override void Broadcast(Span<float> values, int root = 0)
    {
        CheckRoot(root, "Broadcast");
        fixed (float* p = values) Bcast(p, values.Length, sizeof(float), Mpi.Float, root);
    }

    public override void Broadcast(Span<byte> values, int root = 0)
    {
        CheckRoot(root, "Broadcast");
        fixed (byte* p = values) Bcast(p, values.Length, 1, Mpi.Byte, root);
    }

    public override void Barrier()
    {
        RequireOpen();
        Mpi.Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier");
    }

    [DoesNotReturn]
    public override void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (!_finalized) Mpi.Abort(Mpi.CommWorld, exitCode);
        Environment.Exit(exitCode);
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>MPI_Finalize: every rank calls it at the end (Open MPI's launcher reports a rank that exits without it).</summary>
    public override void Dispose()
    {
        lock (Gate)
        {
            if (_finalized) return;
            _finalized = true;
            int done;
            if (Mpi.Finalized(&done) == 0 && done == 0) Mpi.Check(Mpi.Finalize(), "MPI_Finalize");
        }
        base.Dispose();
    }

    // MPI counts are ints: a longer buffer goes in pieces.
    private const int Chunk = 1 << 28;

    private void Reduce(void* p, int length, int elementBytes, nint type)
    {
        RequireOpen();
        for (int start = 0; start < length; start += Chunk)
            Mpi.Check(Mpi.Allreduce(Mpi.InPlace, (byte*)p + (long)start * elementBytes, Math.Min(Chunk, length - start), type, Mpi.OpSum, Mpi.CommWorld), "MPI_Allreduce");
    }

    private void Bcast(void* p, int length, int elementBytes, nint type, int root)
    {
        RequireOpen();
        for (int start = 0; start < length; start += Chunk)
            Mpi.Check(Mpi.Bcast((byte*)p + (long)start * elementBytes, Math.Min(Chunk, length - start), type, root, Mpi.CommWorld), "MPI_Bcast");
    }

    private void RequireOpen()
    {
        if (_finalized) throw new ObjectDisposedException(nameof(MpiCommunicator), "MPI: the communicator was disposed (MPI_Finalize ran).");
    }

    internal static void Scale(Span<float> values, float factor) => System.Numerics.Tensors.TensorPrimitives.Multiply(values, factor, values);
}
