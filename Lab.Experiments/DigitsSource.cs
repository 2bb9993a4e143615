using System.CommandLine;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Data.Files;
using Lab.Experiments.Cli;

namespace Lab.Experiments;

/// <summary>The shipped 8x8 digits as datasets of N x 1 x 8 x 8 images in [0, 1] with their labels.</summary>
public static class DigitsSource
{
    public static Dataset All()
    {
        var d = DigitsFile.LoadDefault();
        return Dataset.WithLabels(d.Images, [1, 8, 8], d.Labels);
    }

    /// <summary>The seeds' seeded 80/20 split (the same for every experiment with the same seed).</summary>
    public static (Dataset Train, Dataset Test) Split(ulong seed)
    {
        var all = All();
        var (train, test) = SplitIndices(seed, all.Count);
        return (all.Subset(train), all.Subset(test));
    }

    /// <summary>
    /// Which of the <paramref name="count"/> digits each part of <see cref="Split"/> holds: the order of Dataset.Split with
    /// the seed's generator, the first fifth (rounded up) held out. Tests read it to check who saw which digits.
    /// </summary>
    public static (int[] Train, int[] Test) SplitIndices(ulong seed, int count = DigitsFile.ShippedRows)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Generator(seed * 7919 + 42).Shuffle(order.AsSpan());
        int test = (int)Math.Ceiling(count * 0.2);
        return (order[test..], order[..test]);
    }

    /// <summary>The option every generative digits experiment takes.</summary>
    public static readonly Option<string> TrainOn = Define.Choice("--train-on",
        "digits to learn from: the 80% training split (held-out digits stay unseen for the quality numbers), or all 1797 as the seeds do",
        ["split", "all"]);

    /// <summary>
    /// Training digits for vae, gan and score-digits, and the held-out 20% the samples are compared with.
    /// The seeds fit all 1797 digits; by default GenLab keeps the held-out fifth unseen so that the Fréchet
    /// distance compares samples with digits the model never saw (`--train-on all` restores the seeds' data).
    /// </summary>
    public static (Dataset Train, Dataset HeldOut) ForGenerativeModel(ExperimentContext ctx, int quickCount = 160)
    {
        var (train, test) = Split(ctx.Seed);
        if (ctx.Get(TrainOn) == "all") train = All();
        if (ctx.Quick) train = train.Subset(Enumerable.Range(0, quickCount).ToArray());
        ctx.Log($"digits: {train.Count} training images, {test.Count} held out for the quality numbers");
        return (train, test);
    }
}
