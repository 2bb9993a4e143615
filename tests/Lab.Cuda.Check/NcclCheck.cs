using Lab.Core;
using Lab.Core.Distributed;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Cuda;

/// <summary>
/// NCCL on one rank (no MPI needed: the id stays in the process): all-reduce and broadcast in place on the backend's
/// stream, and a data-parallel Adam step through the gradient buckets, which must equal the plain step exactly.
/// Null when libnccl.so.2 is missing (the reason is printed instead).
/// </summary>
internal static class NcclCheck
{
    public static string? Unavailable()
    {
        try { new NcclCommunicator(Communicator.SingleProcess, Device.Cuda()).Dispose(); return null; }
        catch (DllNotFoundException e) { return e.Message; }
    }

    public static IEnumerable<Check> OneRank(Device device)
    {
        using var comm = new NcclCommunicator(Communicator.SingleProcess, device);
        var t = Tensor.FromArray([1, -2, 3.5f], [3], device);
        comm.AllReduce(t, AllReduceOp.Sum);
        yield return Exact("AllReduce sum (one rank)", t.ToArray(), [1, -2, 3.5f]);
        comm.AllReduce(t, AllReduceOp.Mean);
        yield return Exact("AllReduce mean (one rank)", t.ToArray(), [1, -2, 3.5f]);
        comm.Broadcast(t, 0);
        yield return Exact("Broadcast (one rank)", t.ToArray(), [1, -2, 3.5f]);
        comm.Barrier();

        float[] Train(DataParallel? parallel)
        {
            var model = new Linear(4, 3, generator: new Generator(1));
            model.To(device);
            var adam = new Adam(model.Parameters(), lr: 0.05f);
            parallel?.Attach(adam);
            var x = Tensor.RandN(new Generator(2), [8, 4], device: device);
            for (int step = 0; step < 3; step++)
            {
                adam.ZeroGrad();
                (model.Call(x) * model.Call(x)).Mean().Backward();
                adam.Step();
            }
            return [.. model.Parameters().SelectMany(p => p.ToArray())];
        }
        yield return Exact("DataParallel Adam steps through NCCL buckets = plain steps", Train(new DataParallel(comm, bucketBytes: 16)), Train(null));
    }

    private static Check Exact(string name, float[] got, float[] want)
    {
        double error = got.Length != want.Length ? double.PositiveInfinity : got.Zip(want, (a, b) => (double)Math.Abs(a - b)).DefaultIfEmpty().Max();
        return new Check("nccl " + name, error, 0, $"got [{string.Join(", ", got.Take(6))}]");
    }
}
