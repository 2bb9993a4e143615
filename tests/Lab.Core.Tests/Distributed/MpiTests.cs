using System.Globalization;
using Lab.Distributed.Worker;

namespace Lab.Core.Tests.Distributed;

/// <summary>
/// Two ranks under mpirun on this machine (Open MPI): the collectives, the proof that data-parallel training equals
/// one process trained on the global batch, and a failing rank stopping the job.
/// </summary>
public class MpiTests
{
    [MpiFact]
    public void CollectivesGiveWhatEachRankWasPromised()
    {
        var r = MpiRun.Ranks(2, "collectives");
        Assert.True(r.Code == 0, r.Output);
        Assert.Contains("rank 0 of 2: collectives ok (Open MPI", r.Output);
        Assert.Contains("rank 1 of 2: collectives ok (Open MPI", r.Output);
    }

    [MpiFact]
    public void TwoRanksOfFitEqualOneProcessOnTheGlobalBatch() => Equivalent("fit", Recipes.Fit(null));

    [MpiFact]
    public void TwoRanksOfACustomLoopWithTwoOptimizersEqualOneProcess() => Equivalent("two-optimizers", Recipes.TwoOptimizers(null));

    private static void Equivalent(string recipe, float[] single)
    {
        var dir = Directory.CreateTempSubdirectory("genlab-ddp-");
        try
        {
            var r = MpiRun.Ranks(2, recipe, Path.Combine(dir.FullName, "params"));
            Assert.True(r.Code == 0, r.Output);
            var ranks = Enumerable.Range(0, 2).Select(k => File.ReadAllLines(Path.Combine(dir.FullName, $"params.rank{k}"))
                .Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray()).ToArray();
            // Every rank holds the same parameters, bit for bit (same averaged gradients, same optimizer state) ...
            Assert.Equal(ranks[0], ranks[1]);
            // ... and they are the single process's, up to the order of float additions (measured: 3e-8 at most).
            Assert.Equal(single.Length, ranks[0].Length);
            double worst = single.Zip(ranks[0], (a, b) => (double)Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-5, $"{recipe}: 2 ranks differ from one process by {worst:E2}");
            // Training moved them (each rank started elsewhere: the broadcast made them rank 0's): far beyond the tolerance.
            var start = Recipes.Flatten(Recipes.Model(0).Parameters());
            Assert.True(single.Zip(start, (a, b) => Math.Abs(a - b)).Max() > 1e-2, $"{recipe}: training barely moved the parameters");
        }
        finally { dir.Delete(recursive: true); }
    }

    [MpiFact]
    public void AFailingRankStopsEveryRankWithItsMessage()
    {
        // Rank 0 waits in a barrier that rank 1 never reaches; rank 1's abort must end both.
        var r = MpiRun.Ranks(2, "fail", "1");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("rank 1 of 2: a deliberate failure", r.Output);
    }
}
