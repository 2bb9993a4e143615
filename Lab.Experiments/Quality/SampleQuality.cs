using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Models;

namespace Lab.Experiments.Quality;

/// <summary>
/// The real-versus-real Fréchet distance a sample's distance is read against, with the sample's own size: draws of
/// <see cref="Size"/> real training digits (without replacement, so no digit counts twice, as no generated sample
/// does) against the same held-out digits, repeated <see cref="Values"/>.Length times. Comparing the samples with
/// fewer real digits than they number would inflate the baseline and make samples look "better than real".
/// </summary>
public sealed record RealBaseline(int Size, double[] Values)
{
    public double Mean => Values.Average();
    /// <summary>The sample standard deviation (n - 1) over the draws.</summary>
    public double Std => Values.Length < 2 ? double.NaN : Math.Sqrt(Values.Sum(v => (v - Mean) * (v - Mean)) / (Values.Length - 1));
}

/// <summary>
/// What GenLab reports about generated digits, judged by a digits classifier: how many classes get at
/// least 2% of the samples, the normalised entropy of the predicted-class histogram (1 = uniform),
/// the mean confidence, and a Fréchet distance between samples and held-out digits in the classifier's
/// 32-dimensional feature space, beside the same distance for as many real digits (<see cref="RealBaseline"/>).
/// </summary>
public sealed record SampleQuality(int ClassesCovered, double ClassEntropy, double MeanConfidence,
    double FrechetDistance, RealBaseline RealVsReal, int[] ClassCounts)
{
    /// <summary>The mean real-versus-real distance over the draws.</summary>
    public double FrechetRealVsReal => RealVsReal.Mean;

    /// <summary>Draws of the real-versus-real baseline, each a Fréchet distance on a thousand 32-dimensional features: cheap.</summary>
    public const int BaselineDraws = 20;

    /// <summary>Records the numbers as metrics (names prefixed, e.g. "t0.1_classes_covered") and logs them.</summary>
    public void Report(ExperimentContext ctx, string prefix = "")
    {
        ctx.Metric(prefix + "classes_covered", ClassesCovered);
        ctx.Metric(prefix + "class_entropy", ClassEntropy);
        ctx.Metric(prefix + "mean_confidence", MeanConfidence);
        ctx.Metric(prefix + "frechet_distance", FrechetDistance);
        ctx.Metric(prefix + "frechet_real_vs_real", RealVsReal.Mean);
        ctx.Metric(prefix + "frechet_real_vs_real_std", RealVsReal.Std);
        ctx.Metric(prefix + "frechet_real_vs_real_size", RealVsReal.Size);
        ctx.Metric(prefix + "frechet_real_vs_real_draws", RealVsReal.Values.Length);
        ctx.Metric(prefix + "class_counts", ClassCounts);
        ctx.Log($"{(prefix.Length > 0 ? prefix.TrimEnd('_') + " " : "")}quality: {ClassesCovered}/10 classes with >= 2% of samples, class entropy {ClassEntropy:0.000}, " +
                $"mean confidence {MeanConfidence:0.000}, Fréchet distance {FrechetDistance:0.00} (real vs real with {RealVsReal.Size} real digits: " +
                $"{RealVsReal.Mean:0.00} ± {RealVsReal.Std:0.00} over {RealVsReal.Values.Length} draws)");
    }

    /// <param name="samples">N x 1 x 8 x 8 generated images in [0, 1].</param>
    /// <param name="heldOut">Real held-out images of the same shape.</param>
    /// <param name="baseline">The real-versus-real distance for N real digits (<see cref="Baseline"/>).</param>
    public static SampleQuality Measure(DigitsCnn classifier, Tensor samples, Tensor heldOut, RealBaseline baseline)
    {
        int n = samples.Shape[0];
        if (baseline.Size != n)
            throw new ArgumentException($"SampleQuality.Measure: the real-vs-real baseline has {baseline.Size} digits per draw, the samples number {n}.");
        using var _ = new NoGrad();
        classifier.Eval();
        var probs = classifier.Call(samples).ToArray();
        var counts = new int[10];
        double confidence = 0;
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < 10; c++) if (probs[i * 10 + c] > probs[i * 10 + best]) best = c;
            counts[best]++;
            confidence += probs[i * 10 + best];
        }
        double entropy = 0;
        foreach (var c in counts)
            if (c > 0) { double p = (double)c / n; entropy -= p * Math.Log(p); }
        return new SampleQuality(
            counts.Count(c => c >= 0.02 * n), entropy / Math.Log(10), confidence / n,
            Frechet(Features(classifier, samples), Features(classifier, heldOut)), baseline, counts);
    }

    /// <summary>
    /// The Fréchet distance between <paramref name="size"/> digits drawn from <paramref name="realPool"/> without
    /// replacement and <paramref name="heldOut"/>, <paramref name="draws"/> times (with replacement only when the pool
    /// holds fewer than <paramref name="size"/> digits). The pool must not hold the held-out digits.
    /// </summary>
    public static RealBaseline Baseline(DigitsCnn classifier, Tensor realPool, Tensor heldOut, int size, int draws, Generator generator)
    {
        if (size < 2) throw new ArgumentException($"SampleQuality.Baseline: a Fréchet distance needs at least 2 digits per draw, got {size}.");
        using var _ = new NoGrad();
        classifier.Eval();
        var pool = Features(classifier, realPool);
        var real = Features(classifier, heldOut);
        int available = pool.GetLength(0);
        var order = Enumerable.Range(0, available).ToArray();
        var values = new double[draws];
        var rows = new int[size];
        for (int k = 0; k < draws; k++)
        {
            if (size <= available)
            {
                generator.Shuffle(order.AsSpan());
                order.AsSpan(0, size).CopyTo(rows);
            }
            else for (int i = 0; i < size; i++) rows[i] = generator.NextInt(available);
            values[k] = Frechet(Rows(pool, rows), real);
        }
        return new RealBaseline(size, values);
    }

    private static double[,] Features(DigitsCnn classifier, Tensor images)
    {
        var f = classifier.Features(images);
        int n = f.Shape[0], d = f.Shape[1];
        var data = f.ToArray();
        var r = new double[n, d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) r[i, j] = data[i * d + j];
        return r;
    }

    private static double[,] Rows(double[,] x, int[] rows)
    {
        var r = new double[rows.Length, x.GetLength(1)];
        for (int i = 0; i < rows.Length; i++) for (int j = 0; j < x.GetLength(1); j++) r[i, j] = x[rows[i], j];
        return r;
    }

    /// <summary>|m1 - m2|² + tr(S1 + S2 - 2 (S1^½ S2 S1^½)^½): the Fréchet distance of two Gaussians fitted to the rows.</summary>
    public static double Frechet(double[,] a, double[,] b)
    {
        var (m1, s1) = Moments(a);
        var (m2, s2) = Moments(b);
        int d = m1.Length;
        double meanTerm = 0;
        for (int i = 0; i < d; i++) meanTerm += (m1[i] - m2[i]) * (m1[i] - m2[i]);
        var r1 = SymmetricEigen.Sqrt(s1);
        var inner = Multiply(Multiply(r1, s2), r1);
        double traceSqrt = SymmetricEigen.Values(inner).Sum(v => Math.Sqrt(Math.Max(0, v)));
        double trace = 0;
        for (int i = 0; i < d; i++) trace += s1[i, i] + s2[i, i];
        return meanTerm + trace - 2 * traceSqrt;
    }

    private static (double[] Mean, double[,] Cov) Moments(double[,] x)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i, j] / n;
        var cov = new double[d, d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) cov[j, k] += (x[i, j] - mean[j]) * (x[i, k] - mean[k]) / (n - 1);
        return (mean, cov);
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = b.GetLength(1), k = a.GetLength(1);
        var r = new double[n, m];
        for (int i = 0; i < n; i++) for (int p = 0; p < k; p++) { double v = a[i, p]; for (int j = 0; j < m; j++) r[i, j] += v * b[p, j]; }
        return r;
    }
}
