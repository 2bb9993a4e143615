using Lab.Core;
using Lab.Experiments.Quality;
using Lab.Models;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>The judge of generated digits learns only from the run's training split; its baseline compares like with like.</summary>
[Collection(QuickCollection.Name)]
public class JudgeTests(QuickRun run)
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(7UL)]
    [InlineData(123UL)]
    public void TheJudgeNeverTrainsOnTheRunsHeldOutDigits(ulong seed)
    {
        var (train, test) = DigitsSource.SplitIndices(seed);
        Assert.Equal(1797, train.Length + test.Length);
        Assert.Equal(360, test.Length);
        Assert.Equal(Enumerable.Range(0, 1797), train.Concat(test).Order());   // a partition of the digits
        foreach (bool quick in new[] { false, true })
        {
            var judge = DigitsClassifier.TrainingIndices(seed, quick);
            Assert.Equal(quick ? DigitsClassifier.QuickImages : train.Length, judge.Length);
            Assert.Empty(judge.Intersect(test));
        }
        // The indices are those of the split the experiments use: its held-out images are these digits.
        var all = DigitsSource.All();
        var (_, heldOut) = DigitsSource.Split(seed);
        Assert.Equal(all.Subset(test).Features, heldOut.Features);
    }

    [Fact]
    public void SplitsDifferBetweenSeeds()
    {
        // Otherwise "the split of --seed" would be the same split whatever the seed.
        var a = DigitsSource.SplitIndices(0).Test;
        var b = DigitsSource.SplitIndices(1).Test;
        Assert.True(a.Intersect(b).Count() < 150, $"{a.Intersect(b).Count()} of 360 held-out digits shared between seeds 0 and 1");
    }

    [Fact]
    public void MetricsRecordWhoJudgedAndTheSizeMatchedBaseline()
    {
        foreach (var experiment in new[] { "vae", "gan", "wgan-gp", "score-digits" })
        {
            var m = Files.Metrics(run.Dir(experiment));
            Assert.Equal(0, m["judge_split_seed"].GetInt32());
            Assert.Equal(DigitsClassifier.QuickImages, m["judge_training_digits"].GetInt32());
            // Quick mode's judge (10 epochs on 400 digits) reaches about 0.8; chance is 0.1.
            Assert.InRange(m["judge_held_out_accuracy"].GetDouble(), 0.6, 1);
            Assert.Equal(1000, m["frechet_real_vs_real_size"].GetInt32());
            Assert.Equal(SampleQuality.BaselineDraws, m["frechet_real_vs_real_draws"].GetInt32());
            Assert.True(m["frechet_real_vs_real_std"].GetDouble() > 0, experiment);
        }
        Assert.Contains("digits-classifier-e10-n400-split0.ckpt", Directory.EnumerateFiles(Path.Combine(run.Root, "cache")).Select(Path.GetFileName));
    }

    [Fact]
    public void FrechetDistanceMatchesTheClosedForm()
    {
        // a: mean 0, covariance diag(2/3, 8/3) (n - 1); b = 2a + (3, 4): S2 = 4 S1, so (S1^½ S2 S1^½)^½ = 2 S1 and the
        // distance is |(3, 4)|² + tr(S1 + 4 S1 - 4 S1) = 25 + 10/3.
        double[,] a = { { -1, 0 }, { 1, 0 }, { 0, -2 }, { 0, 2 } };
        var b = new double[4, 2];
        for (int i = 0; i < 4; i++) { b[i, 0] = 2 * a[i, 0] + 3; b[i, 1] = 2 * a[i, 1] + 4; }
        Assert.Equal(25 + 10.0 / 3, SampleQuality.Frechet(a, b), 9);
        Assert.Equal(0, SampleQuality.Frechet(a, a), 9);
    }

    [Fact]
    public void TheBaselineDrawsAsManyRealDigitsAsThereAreSamples()
    {
        var classifier = new DigitsCnn(new Generator(5));
        var (train, test) = DigitsSource.Split(0);
        var pool = train.FeaturesTensor();
        var heldOut = test.FeaturesTensor();

        // When the pool holds exactly N digits, every draw is the whole pool: each value is that one distance.
        var exact = train.Subset(Enumerable.Range(0, 500).ToArray());
        var whole = SampleQuality.Baseline(classifier, exact.FeaturesTensor(), heldOut, 500, 3, new Generator(1));
        double reference = SampleQuality.Frechet(Rows(classifier.Features(exact.FeaturesTensor())), Rows(classifier.Features(heldOut)));
        Assert.All(whole.Values, v => Assert.Equal(reference, v, 9));

        // Small draws inflate the distance: the reason the baseline must match the sample count.
        var small = SampleQuality.Baseline(classifier, pool, heldOut, 180, 10, new Generator(2));
        var large = SampleQuality.Baseline(classifier, pool, heldOut, 1000, 10, new Generator(2));
        Assert.Equal(1000, large.Size);
        Assert.Equal(10, large.Values.Length);
        Assert.True(large.Mean < small.Mean, $"1000 real digits: {large.Mean}, 180: {small.Mean}");
        Assert.True(large.Std > 0);
        Assert.Equal(Math.Sqrt(large.Values.Sum(v => (v - large.Mean) * (v - large.Mean)) / 9), large.Std, 12);

        // Samples are judged against a baseline of their own size only.
        var e = Assert.Throws<ArgumentException>(() => SampleQuality.Measure(classifier, heldOut, heldOut, large));
        Assert.Contains("1000 digits per draw, the samples number 360", e.Message);
    }

    private static double[,] Rows(Tensor features)
    {
        int n = features.Shape[0], d = features.Shape[1];
        var data = features.ToArray();
        var r = new double[n, d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) r[i, j] = data[i * d + j];
        return r;
    }
}
