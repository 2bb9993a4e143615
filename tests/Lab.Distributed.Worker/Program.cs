using System.Globalization;
using Lab.Core;
using Lab.Core.Distributed;
using Lab.Distributed.Worker;

// mpirun -np N dotnet Lab.Distributed.Worker.dll <fit|two-optimizers|collectives|fail> [args]
// Every rank writes what it found to <out>.rank<r>; a failure prints "rank r of N: ..." and stops every rank.
var comm = Communicator.FromEnvironment(Device.Cpu);
try
{
    switch (args.Length > 0 ? args[0] : "")
    {
        case "fit": Write(args[1], Recipes.Fit(new DataParallel(comm))); break;
        case "two-optimizers": Write(args[1], Recipes.TwoOptimizers(new DataParallel(comm))); break;
        case "collectives": Collectives(); break;
        case "fail":
            if (comm.Rank == int.Parse(args[1], CultureInfo.InvariantCulture)) throw new InvalidOperationException("a deliberate failure");
            comm.Barrier();   // the other ranks wait here until the abort stops them
            break;
        default:
            Console.Error.WriteLine("usage: Lab.Distributed.Worker fit|two-optimizers OUT | collectives | fail RANK");
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

// Each collective against what it must give, worked out here from the ranks' inputs.
void Collectives()
{
    int r = comm.Rank, n = comm.Size;
    var sum = new float[] { r + 1, 10 * r, -r };
    comm.AllReduce(sum);
    Expect("AllReduce sum", sum, [n * (n + 1) / 2f, 10f * n * (n - 1) / 2, -n * (n - 1) / 2f]);
    var mean = new double[] { r, 1.5 };
    comm.AllReduce(mean, ReduceOp.Mean);
    Expect("AllReduce mean", [(float)mean[0], (float)mean[1]], [(n - 1) / 2f, 1.5f]);
    var tensor = Tensor.FromArray([r, 2 * r], [2]);
    comm.AllReduce(tensor, ReduceOp.Mean);
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
