using Lab.Core.Backends;
using Lab.Core.Data;
using Lab.Core.Distributed;
using Lab.Core.Nn;
using Lab.Core.Tests.Cuda;
using Lab.Distributed.Worker;

namespace Lab.Core.Tests.Distributed;

public class CommunicatorTests
{
    [Fact]
    public void SingleProcessIsOneRankAndLeavesValuesAsGiven()
    {
        var comm = Communicator.SingleProcess;
        Assert.Equal((0, 1, true), (comm.Rank, comm.Size, comm.IsRoot));
        var values = new float[] { 1.5f, -2, 3 };
        comm.AllReduce(values);
        comm.AllReduce(values, AllReduceOp.Mean);
        comm.Broadcast(values, 0);
        Assert.Equal([1.5f, -2, 3], values);
        var doubles = new double[] { 0.25, 7 };
        comm.AllReduce(doubles, AllReduceOp.Mean);
        Assert.Equal([0.25, 7], doubles);
        var t = Tensor.FromArray([4, 5], [2]);
        comm.AllReduce(t, AllReduceOp.Mean);
        comm.Broadcast(t);
        Assert.Equal([4f, 5f], t.ToArray());
        comm.Barrier();
        comm.Dispose();   // shared: still usable
        Assert.Equal(1, Communicator.SingleProcess.Size);
    }

    [Fact]
    public void BroadcastFromARankThatIsNotThereNamesTheRanks()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Communicator.SingleProcess.Broadcast(new float[2], root: 1));
        Assert.Contains("root 1 is not a rank of this job (0 .. 0)", e.Message);
    }

    [Fact]
    public void OneRankDataParallelTrainsExactlyLikeNoDataParallel()
    {
        // Buckets in, all-reduce (nothing to add), buckets out: bit for bit the plain run, for Fit and for two optimizers.
        Assert.Equal(Recipes.Fit(null), Recipes.Fit(new DataParallel(Communicator.SingleProcess, bucketBytes: 64)));
        Assert.Equal(Recipes.TwoOptimizers(null), Recipes.TwoOptimizers(new DataParallel(Communicator.SingleProcess)));
    }

    [Fact]
    public void GradientsTravelInBucketsOfAtMostTheGivenSize()
    {
        var model = Recipes.Model(0);   // parameters of 27, 3, 81, 3 elements
        var adam = new Optim.Adam(model.Parameters());
        var parallel = new DataParallel(Communicator.SingleProcess, bucketBytes: 100 * sizeof(float));
        parallel.Attach(adam);
        parallel.Attach(adam);   // harmless
        Assert.Equal(2, parallel.BucketCount(adam));   // reverse order: [3, 81] then [3, 27]
        Assert.NotNull(adam.BeforeStep);
        parallel.Detach(adam);
        Assert.Null(adam.BeforeStep);
    }

    [Fact]
    public void AveragingTheGradientsAllocatesNothingPerStep()
    {
        var model = Recipes.Model(0);
        var adam = new Optim.Adam(model.Parameters());
        var parallel = new DataParallel(Communicator.SingleProcess, bucketBytes: 100 * sizeof(float));
        parallel.Attach(adam);
        parallel.LocalShare = 0.5f;   // a weight to apply, as on two ranks
        var x = Tensor.RandN(new Generator(1), [4, 1, 5, 5]);
        Losses.Mse(model.Call(x), Tensor.Zeros(4, 3)).Backward();
        var grads = Recipes.Flatten(model.Parameters().Select(p => p.Grad!));
        adam.BeforeStep!();   // the first reduce may create what it keeps
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) adam.BeforeStep!();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        // Eleven reductions on one rank: each gradient scaled by the share eleven times, through the buckets and back.
        var after = Recipes.Flatten(model.Parameters().Select(p => p.Grad!));
        Assert.Equal(grads.Select(g => g * MathF.Pow(0.5f, 11)).ToArray(), after);
    }

    [Theory]
    [InlineData(64, 15, 2, 5)]   // 7 + 8 per batch, a last batch of 4 (2 + 2)
    [InlineData(64, 15, 3, 5)]   // 5 + 5 + 5, a last batch of 4 (1 + 1 + 2)
    [InlineData(61, 15, 2, 4)]   // a last batch of 1 cannot be shared by two ranks: dropped
    [InlineData(60, 10, 4, 6)]   // 2 + 3 + 2 + 3
    public void ShardsAreDisjointAndTogetherAreTheSingleProcessBatches(int samples, int batch, int ranks, int batches)
    {
        var data = new Dataset([.. Enumerable.Range(0, samples).Select(i => (float)i)], [1], new float[samples], []);
        var single = new DataLoader(data, batch, shuffle: true, generator: new Generator(5));
        var shards = Enumerable.Range(0, ranks).Select(r => new DataLoader(data, batch, shuffle: true, generator: new Generator(5), shard: (r, ranks))).ToArray();
        Assert.All(shards, s => Assert.Equal(batches, s.Count));
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var whole = single.Epoch().Select(b => b.X.ToArray()).ToList();
            var parts = shards.Select(s => s.Epoch().Select(b => b.X.ToArray()).ToList()).ToArray();
            var seen = new HashSet<float>();
            for (int b = 0; b < batches; b++)
            {
                // Rank order, concatenated: the single process's batch, sample for sample.
                Assert.Equal(whole[b], parts.SelectMany(p => p[b]).ToArray());
                var sizes = parts.Select(p => p[b].Length).ToArray();
                Assert.True(sizes.Max() - sizes.Min() <= 1 && sizes.Min() >= 1, $"batch {b}: shard sizes {string.Join(", ", sizes)}");
                Assert.Equal(whole[b].Length, shards[0].GlobalSize(b));
                foreach (var x in parts.SelectMany(p => p[b])) Assert.True(seen.Add(x), $"sample {x} seen twice in epoch {epoch}");
            }
            Assert.Equal(batches == single.Count ? samples : samples - samples % batch, seen.Count);
        }
    }

    [Fact]
    public void ABatchTooSmallToShareIsAClearError()
    {
        var data = new Dataset(new float[8], [1], new float[8], []);
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(data, 2, shard: (0, 3)));
        Assert.Contains("a global batch of 2 cannot be shared by 3 ranks", e.Message);
        Assert.Contains("shard 3 of 3", Assert.Throws<ArgumentException>(() => new DataLoader(data, 4, shard: (3, 3))).Message);
    }

    [NoCudaFact]
    public void NcclWithoutAGpuSaysCudaIsNotAvailable()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => new NcclCommunicator(Communicator.SingleProcess, Device.Cuda(0)));
        Assert.StartsWith("CUDA not available", e.Message);
    }

    [Fact]
    public void MissingNcclNamesWhatToInstall()
    {
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad("libnccl.so.2", out _)) return;   // installed here: nothing to see
        var e = Assert.Throws<DllNotFoundException>(Nccl.Load);
        Assert.Contains("NCCL not found (tried libnccl.so.2", e.Message);
        Assert.Contains("install libnccl2", e.Message);
    }

    [Fact]
    public void MissingMpiUnderALauncherIsOneLineNamingWhatToInstall()
    {
        // As if mpirun had started it, with no Open MPI to be found: the worker prints the reason and exits 2.
        var r = MpiRun.Alone(new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "1", ["LAB_MPI"] = "/nonexistent/libmpi.so.40" }, "collectives");
        Assert.Equal(2, r.Code);
        Assert.Equal("MPI not found (tried /nonexistent/libmpi.so.40): install Open MPI (apt-get install openmpi-bin), or set LAB_MPI to its libmpi.so", r.Output.Trim());
    }

    [Fact]
    public void WithoutALauncherTheProcessIsOneRank()
    {
        var r = MpiRun.Alone(new Dictionary<string, string>(), "collectives");
        Assert.True(r.Code == 0, r.Output);
        Assert.Contains("rank 0 of 1: collectives ok (single process)", r.Output);
    }
}
