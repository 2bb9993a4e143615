using System.Diagnostics.CodeAnalysis;

namespace Lab.Core.Distributed;

/// <summary>How <see cref="Communicator.AllReduce(Span{float}, AllReduceOp)"/> combines the ranks' values.</summary>
public enum AllReduceOp { Sum, Mean }

/// <summary>
/// The collectives data parallelism needs, over the processes ("ranks") of one job: all-reduce (sum, mean),
/// broadcast, barrier, rank and size. Three implementations: <see cref="SingleProcess"/> (one rank, no cost),
/// <see cref="MpiCommunicator"/> (Open MPI, for CPUs and clusters) and <see cref="NcclCommunicator"/> (NCCL on the
/// CUDA backend's stream, one GPU per rank). Every rank must call the same collectives in the same order.
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's index, 0 .. <see cref="Size"/> - 1. Rank 0 writes results.</summary>
    public abstract int Rank { get; }
    /// <summary>The number of ranks.</summary>
    public abstract int Size { get; }
    public bool IsRoot => Rank == 0;
    /// <summary>What carries the collectives, e.g. "Open MPI v4.1.4" (for logs).</summary>
    public abstract string Name { get; }

    /// <summary>Every rank's <paramref name="values"/> become the element-wise sum (or mean) over the ranks, in place.</summary>
    public abstract void AllReduce(Span<float> values, AllReduceOp op = AllReduceOp.Sum);
    public abstract void AllReduce(Span<double> values, AllReduceOp op = AllReduceOp.Sum);
    /// <summary>Every rank's <paramref name="values"/> become <paramref name="root"/>'s.</summary>
    public abstract void Broadcast(Span<float> values, int root = 0);
    public abstract void Broadcast(Span<byte> values, int root = 0);
    /// <summary>Returns once every rank has called it.</summary>
    public abstract void Barrier();
    /// <summary>Stops every rank of the job with <paramref name="exitCode"/> (MPI_Abort); never returns.</summary>
    [DoesNotReturn]
    public abstract void Abort(int exitCode);

    /// <summary>A tensor's elements summed (or averaged) over the ranks, in place. A CPU tensor is reduced where it lies;
    /// a device tensor through a host copy unless the communicator works on device memory (<see cref="NcclCommunicator"/>).</summary>
    public virtual void AllReduce(Tensor tensor, AllReduceOp op = AllReduceOp.Sum)
    {
        if (tensor.Storage is Backends.CpuStorage) { AllReduce(tensor.Span, op); return; }
        var host = HostBuffer(tensor.Numel);
        tensor.Backend.Download(tensor, host);
        AllReduce(host, op);
        tensor.Backend.Upload(host, tensor);
    }

    /// <summary>A tensor's elements replaced by <paramref name="root"/>'s, in place.</summary>
    public virtual void Broadcast(Tensor tensor, int root = 0)
    {
        if (tensor.Storage is Backends.CpuStorage) { Broadcast(tensor.Span, root); return; }
        var host = HostBuffer(tensor.Numel);
        tensor.Backend.Download(tensor, host);
        Broadcast(host, root);
        tensor.Backend.Upload(host, tensor);
    }

    private float[] _host = [];
    private Span<float> HostBuffer(int n)
    {
        if (_host.Length < n) _host = new float[n];
        return _host.AsSpan(0, n);
    }

    protected void CheckRoot(int root, string what)
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), $"{what}: root {root} is not a rank of this job (0 .. {Size - 1}).");
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>The one-rank communicator: every collective returns at once with the values it was given.</summary>
    public static Communicator SingleProcess { get; } = new SingleProcessCommunicator();

    /// <summary>
    /// Whether this process was started by an MPI launcher (mpirun/mpiexec, or Slurm's srun), read from the variables
    /// they set: OMPI_COMM_WORLD_SIZE (Open MPI), PMI_SIZE / PMIX_RANK (PMI, MPICH, Slurm), SLURM_NTASKS with SLURM_PROCID.
    /// </summary>
    public static bool LaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("PMI_SIZE") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("PMIX_RANK") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("SLURM_PROCID") is { Length: > 0 } && Environment.GetEnvironmentVariable("SLURM_NTASKS") is { Length: > 0 };

    /// <summary>This rank's index among the ranks on its own machine (for one GPU per rank): the launcher's local rank, else 0.</summary>
    public static int LocalRank
    {
        get
        {
            foreach (var name in new[] { "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "LOCAL_RANK" })
                if (int.TryParse(Environment.GetEnvironmentVariable(name), out var r) && r >= 0) return r;
            return 0;
        }
    }

    /// <summary>
    /// The communicator for this process: one rank when no MPI launcher started it; under mpirun or srun, MPI on the CPU
    /// and NCCL (its id exchanged over MPI) for a CUDA <paramref name="device"/>. A missing library is one clear error.
    /// </summary>
    public static Communicator FromEnvironment(Device device)
    {
        if (!LaunchedByMpi) return SingleProcess;
        var mpi = MpiCommunicator.Initialize();
        if (device.Type != DeviceType.Cuda) return mpi;
        try { return new NcclCommunicator(mpi, device); }
        catch { mpi.Dispose(); throw; }
    }
}

internal sealed class SingleProcessCommunicator : Communicator
{
    public override int Rank => 0;
    public override int Size => 1;
    public override string Name => "single process";
    public override void AllReduce(Span<float> values, AllReduceOp op = AllReduceOp.Sum) { }
    public override void AllReduce(Span<double> values, AllReduceOp op = AllReduceOp.Sum) { }
    public override void AllReduce(Tensor tensor, AllReduceOp op = AllReduceOp.Sum) { }
    public override void Broadcast(Span<float> values, int root = 0) => CheckRoot(root, "Broadcast");
    public override void Broadcast(Span<byte> values, int root = 0) => CheckRoot(root, "Broadcast");
    public override void Broadcast(Tensor tensor, int root = 0) => CheckRoot(root, "Broadcast");
    public override void Barrier() { }
    [DoesNotReturn]
    public override void Abort(int exitCode)
    {
        Environment.Exit(exitCode);
        throw new InvalidOperationException("unreachable");
    }
    public override void Dispose() { }   // shared: never ends
}
