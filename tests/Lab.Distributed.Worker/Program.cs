using System.Globalization;
using Lab.Core;
using Lab.Core.Distributed;
using Lab.Distributed.Worker;

// mpirun -np N dotnet Lab.Distributed.Worker.dll <fit|two-optimizers|sync-bn|local-bn|sync-bn-hvp|collectives|fail> [args]
// Every rank writes what it found to <out>.rank<r>; a failure prints "rank r of N: ..." and stops every rank.
Communicator comm;
try
{
    // "nccl": the NCCL communicator on this rank's GPU (cuda:<local rank>), which must fail clearly without one.
    comm = Communicator.FromEnvironment(args is ["nccl", ..] ? Device.Cuda(Communicator.LocalRank) : Device.Cpu);
}
catch (Exception e) when (e is DllNotFoundException or Lab.Core.Backends.DeviceUnavailableException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
try
{
    switch (args.Length > 0 ? args[0] : "")
    {
        case "fit": Write(args[1], Recipes.Fit(new DataParallel(comm))); break;
        case "two-optimizers": Write(args[1], Recipes.TwoOptimizers(new DataParallel(comm))); break;
        case "sync-bn": Write(args[1], Recipes.FitBatchNorm(new DataParallel(comm), sync: true)); break;
        case "local-bn": Write(args[1], Recipes.FitBatchNorm(new DataParallel(comm), sync: false)); break;
        case "sync-bn-hvp": Write(args[1], Recipes.BatchNormHessianVector(new DataParallel(comm))); break;
        case "collectives": Collectives(); break;
        case "nccl": Nccl(); break;
        case "fail":
            if (comm.Rank == int.Parse(args[1], CultureInfo.InvariantCulture)) throw new InvalidOperationException("a deliberate failure");
            comm.Barrier();   // the other ranks wait here until the abort stops them
            break;
        default:
            Console.Error.WriteLine("usage: Lab.Distributed.Worker fit|two-optimizers|sync-bn|local-bn|sync-bn-hvp OUT | collectives | nccl | fail RANK");
            return 2;
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"rank {comm.Rank} of {comm.Size}: {e.Message}");
    comm.Abort(3);
}
comm.Dispose();
return 0;

void Write(string path, float[] values) =>
    File.WriteAllLines($"{path}.rank{comm.Rank}", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

// One rank's NCCL all-reduce and broadcast on the GPU, against the values they must give.
void Nccl()
{
    var device = Device.Cuda(Communicator.LocalRank);
    var t = Tensor.FromArray([1, 2, 3], [3], device);
    comm.AllReduce(t, AllReduceOp.Sum);
    Expect("NCCL AllReduce sum", t.ToArray(), [comm.Size, 2 * comm.Size, 3 * comm.Size]);
    comm.AllReduce(t, AllReduceOp.Mean);
    Expect("NCCL AllReduce mean", t.ToArray(), [comm.Size, 2 * comm.Size, 3 * comm.Size]);
    var b = Tensor.FromArray([comm.Rank, 5], [2], device);
    comm.Broadcast(b, 0);
    Expect("NCCL Broadcast", b.ToArray(), [0, 5]);
    comm.Barrier();
    Console.WriteLine($"rank {comm.Rank} of {comm.Size}: NCCL ok ({comm.Name})");
}

// Each collective against what it must give, worked out here from the ranks' inputs.
void Collectives()
{
    int r = comm.Rank, n = comm.Size;
    var sum = new float[] { r + 1, 10 * r, -r };
    comm.AllReduce(sum);
    Expect("AllReduce sum", sum, [n * (n + 1) / 2f, 10f * n * (n - 1) / 2, -n * (n - 1) / 2f]);
    var mean = new double[] { r, 1.5 };
    comm.AllReduce(mean, AllReduceOp.Mean);
    Expect("AllReduce mean", [(float)mean[0], (float)mean[1]], [(n - 1) / 2f, 1.5f]);
    var tensor = Tensor.FromArray([r, 2 * r], [2]);
    comm.AllReduce(tensor, AllReduceOp.Mean);
    Expect("AllReduce tensor mean", tensor.ToArray(), [(n - 1) / 2f, n - 1]);
    int root = n - 1;
    var bcast = new float[] { r, r * r };
    comm.Broadcast(bcast, root);
    Expect("Broadcast", bcast, [root, root * root]);
    var bytes = new byte[] { (byte)r, 7 };
    comm.Broadcast(bytes, root);
    Expect("Broadcast bytes", [bytes[0], bytes[1]], [root, 7]);
    comm.Barrier();
    Console.WriteLine($"rank {r} of {n}: collectives ok ({comm.Name})");
}

static void Expect(string what, float[] got, float[] want)
{
    if (!got.SequenceEqual(want)) throw new InvalidOperationException($"{what}: got [{string.Join(", ", got)}], expected [{string.Join(", ", want)}]");
}
