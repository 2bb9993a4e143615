using Lab.Core.Autodiff;
using Lab.Core.Distributed;
using Lab.Core.Nn;
using Lab.Distributed.Worker;

namespace Lab.Core.Tests.Distributed;

/// <summary>
/// The synchronised batch norm on one rank, where it must be the plain one (the two-rank equivalence with one process on
/// the global batch is in <see cref="MpiTests"/>), and the weighting of the differentiable all-reduce's gradient.
/// </summary>
public class SyncBatchNormTests
{
    private static DataParallel OneRank() => new(Communicator.SingleProcess);

    /// <summary>Output, gradients (input, weight, bias) and running statistics of two training steps and one evaluation.</summary>
    private static List<float[]> Steps(DataParallel? synchronised)
    {
        var bn = new BatchNorm2d(3, momentum: 0.3f) { Synchronised = synchronised };
        var g = new Generator(11);
        var seen = new List<float[]>();
        for (int step = 0; step < 2; step++)
        {
            var x = (Tensor.RandN(g, [5, 3, 4, 2]) * 2f + 0.5f).RequireGrad();
            var upstream = Tensor.RandN(g, [5, 3, 4, 2]);
            var y = bn.Call(x);
            (y * upstream).Sum().Backward();
            seen.AddRange([y.ToArray(), x.Grad!.ToArray(), bn.Weight.Grad!.ToArray(), bn.Bias.Grad!.ToArray(), bn.RunningMean.ToArray(), bn.RunningVar.ToArray()]);
            bn.Weight.Grad = bn.Bias.Grad = null;
        }
        bn.Eval();
        seen.Add(bn.Call(Tensor.RandN(g, [2, 3, 4, 2])).ToArray());
        return seen;
    }

    [Fact]
    public void OnOneRankTheSynchronisedBatchNormIsThePlainOneBitForBit()
    {
        var plain = Steps(null);
        Assert.Equal(plain, Steps(OneRank()));
        // The comparison sees the statistics: training moved the running mean and variance away from their start (0, 1).
        Assert.True(plain[4].Max(v => Math.Abs(v)) > 0.1f, $"running mean {string.Join(", ", plain[4])}");
        Assert.True(plain[5].Max(v => Math.Abs(v - 1)) > 0.1f, $"running variance {string.Join(", ", plain[5])}");
    }

    [Fact]
    public void OnOneRankTheTrainerWithSyncBatchNormTrainsAsWithout()
    {
        Assert.Equal(Recipes.FitBatchNorm(null, sync: false), Recipes.FitBatchNorm(OneRank(), sync: true));
    }

    [Fact]
    public void ConvertSyncBatchNormSetsEveryBatchNormOfTheModel()
    {
        var inner = new Sequential(new Linear(4, 4), new BatchNorm1d(4));
        var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), inner);
        var parallel = OneRank();
        Assert.Equal(2, parallel.ConvertSyncBatchNorm(model));
        Assert.Same(parallel, ((BatchNorm)model.Layers[1]).Synchronised);
        Assert.Same(parallel, ((BatchNorm)inner.Layers[1]).Synchronised);
        Assert.Equal(0, parallel.ConvertSyncBatchNorm(Recipes.Model(0)));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.25f)]   // a rank's gradient is the global one over its share, then weighted back by the share: exact here
    public void TheAllReduceIsTheIdentityOnOneRankToSecondOrder(float share)
    {
        var parallel = OneRank();
        parallel.LocalShare = share;
        var x = Tensor.FromArray([1.5f, -2, 0.5f], [3]).RequireGrad();
        var y = parallel.AllReduceSum(x);
        Assert.Equal(x.ToArray(), y.ToArray());
        var grad = Autograd.Grad((y * y * y).Sum(), x, createGraph: true)!;   // 3 x^2
        Assert.Equal([6.75f, 12, 0.75f], grad.ToArray());
        var second = Autograd.Grad(grad.Sum(), x)!;   // 6 x
        Assert.Equal([9f, -12, 3], second.ToArray());
    }

    [Fact]
    public void ARankOfShareZeroGetsZeroGradientsThroughTheAllReduce()
    {
        // Its gradients weigh nothing in the average; zeros stand in for a division by its share.
        var parallel = OneRank();
        parallel.LocalShare = 0;
        var x = Tensor.FromArray([1.5f, -2], [2]).RequireGrad();
        var y = parallel.AllReduceSum(x);
        Assert.Equal(x.ToArray(), y.ToArray());
        (y * y).Sum().Backward();
        Assert.Equal([0f, 0], x.Grad!.ToArray());
    }

    [Fact]
    public void TooFewValuesOverAllRanksIsOneClearError()
    {
        var bn = new BatchNorm1d(3) { Synchronised = OneRank() };
        var e = Assert.Throws<ArgumentException>(() => bn.Call(Tensor.Zeros(1, 3)));
        Assert.Equal("BatchNorm: training needs more than one value per channel, got input [1, 3] (1 per channel over all 1 ranks).", e.Message);
    }

    [Fact]
    public void ASynchronisedStepAllocatesNothingInARecyclingScopeAsThePlainOne()
    {
        long Bytes(DataParallel? synchronised)
        {
            var bn = new BatchNorm2d(3) { Synchronised = synchronised };
            var x = Tensor.RandN(new Generator(2), [4, 3, 5, 5]).RequireGrad();
            void Step()
            {
                using var _ = TensorScope.BeginRecycling();
                bn.Call(x).Square().Mean().Backward();
            }
            for (int i = 0; i < 5; i++) Step();
            long bytes = -1;
            // Up to four rounds, the last one counting: a one-off growth ends, an allocation per step shows in each.
            for (int round = 0; round < 4 && bytes != 0; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 10; i++) Step();
                bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            return bytes;
        }
        Assert.Equal((0L, 0L), (Bytes(null), Bytes(OneRank())));
    }
}
