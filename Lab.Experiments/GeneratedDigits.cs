using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Experiments.Quality;

namespace Lab.Experiments;

/// <summary>
/// What vae, gan and score-digits do with their samples: save them as samples.csv (one 8x8 image per row,
/// 64 values in [0, 1], 1 = ink) and judge them with the cached digits classifier against held-out digits.
/// </summary>
public static class GeneratedDigits
{
    public const int SampleCount = 1000;

    /// <summary>samples.csv: a header p0..p63, then one row of 64 values per image, clamped to [0, 1], 5 decimals.</summary>
    public static void Write(ExperimentContext ctx, Tensor images, string file = "samples.csv")
    {
        var data = images.ToArray();
        NonFinite.Check(data, "generated samples", $"before writing {file}", ctx.NonFiniteHint());
        int n = images.Shape[0];
        ctx.WriteCsv(file, Enumerable.Range(0, 64).Select(i => $"p{i}").ToArray(),
            Enumerable.Range(0, n).Select(r => (IReadOnlyList<double>)Enumerable.Range(0, 64)
                .Select(j => Math.Round(Math.Clamp(data[r * 64 + j], 0f, 1f), 5)).ToArray()));
    }

    /// <summary>Reads a samples.csv as <see cref="Write"/> writes it (a header, then 64 values per row) into N x 1 x 8 x 8 images.</summary>
    public static Tensor Read(string path)
    {
        var rows = File.ReadLines(path).Skip(1).Where(l => l.Trim().Length > 0)
            .Select(l => l.Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
        if (rows.Count == 0 || rows.Any(r => r.Length != 64))
            throw new InvalidDataException($"{path}: expected a header and rows of 64 values.");
        return Tensor.FromArray(rows.SelectMany(r => r).ToArray(), [rows.Count, 1, 8, 8]);
    }

    /// <summary>
    /// A judge of samples: the digits classifier of the run's split (loaded or trained on first use, see
    /// <see cref="DigitsClassifier"/>) and the held-out digits, with the real-versus-real baseline drawn from the
    /// training part of the run's split at the samples' own size (computed once per size, so every judged set of a run
    /// is read against the same numbers).
    /// </summary>
    public static Func<Tensor, string, SampleQuality> Judge(ExperimentContext ctx, Dataset heldOut)
    {
        DigitsJudge? classifier = null;
        var real = heldOut.FeaturesTensor();
        var baselines = new Dictionary<int, RealBaseline>();
        return (images, prefix) =>
        {
            NonFinite.Check(images.ToArray(), "generated samples", $"before judging them{(prefix.Length > 0 ? $" ({prefix.TrimEnd('_')})" : "")}", ctx.NonFiniteHint());
            if (classifier is null)
            {
                classifier = DigitsClassifier.Get(ctx);
                classifier.Report(ctx);
            }
            int n = images.Shape[0];
            if (!baselines.TryGetValue(n, out var baseline))
            {
                // The whole training part of the split, whatever --train-on or --quick: it never holds a held-out digit.
                var pool = DigitsSource.Split(ctx.Seed).Train.FeaturesTensor();
                baselines[n] = baseline = SampleQuality.Baseline(classifier.Model, pool, real, n, SampleQuality.BaselineDraws, ctx.Rng(1009));
            }
            using var _ = new NoGrad();
            var quality = SampleQuality.Measure(classifier.Model, images.To(Device.Cpu).Clamp(0, 1), real, baseline);
            quality.Report(ctx, prefix);
            return quality;
        };
    }
}
