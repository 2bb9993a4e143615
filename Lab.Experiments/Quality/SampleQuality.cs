using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Models;

namespace Lab.Experiments.Quality;

/// <summary>
/// What GenLab reports about generated digits, judged by a digits classifier: how many classes get at
/// least 2% of the samples, the normalised entropy of the predicted-class histogram (1 = uniform),
/// the mean confidence, and a Fréchet distance between samples and held-out digits in the classifier's
/// 32-dimensional feature space, beside the same distance between two halves of real digits.
/// </summary>
public sealed record SampleQuality(int ClassesCovered, double ClassEntropy, double MeanConfidence,
    double FrechetDistance, double FrechetRealVsReal, int[] ClassCounts)
{
    /// <summary>Records the numbers as metrics (names prefixed, e.g. "t0.1_classes_covered") and logs them.</summary>
    public void Report(ExperimentContext ctx, string prefix = "")
    {
        ctx.Metric(prefix + "classes_covered", ClassesCovered);
        ctx.Metric(prefix + "class_entropy", ClassEntropy);
        ctx.Metric(prefix + "mean_confidence", MeanConfidence);
        ctx.Metric(prefix + "frechet_distance", FrechetDistance);
        ctx.Metric(prefix + "frechet_real_vs_real", FrechetRealVsReal);
        ctx.Metric(prefix + "class_counts", ClassCounts);
        ctx.Log($"{(prefix.Length > 0 ? prefix.TrimEnd('_') + " " : "")}quality: {ClassesCovered}/10 classes with >= 2% of samples, class entropy {ClassEntropy:0.000}, " +
                $"mean confidence {MeanConfidence:0.000}, Fréchet distance {FrechetDistance:0.00} (real vs real {FrechetRealVsReal:0.00})");
    }

    /// <param name="samples">N x 1 x 8 x 8 generated images in [0, 1].</param>
    /// <param name="heldOut">Real held-out images of the same shape.</param>
    public static SampleQuality Measure(DigitsCnn classifier, Tensor samples, Tensor heldOut)
    {
        using var _ = new NoGrad();
        classifier.Eval();
        var probs = classifier.Call(samples).ToArray();
        int n = samples.Shape[0];
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
        var fake = Features(classifier, samples);
        var real = Features(classifier, heldOut);
        int half = real.GetLength(0) / 2;
        return new SampleQuality(
            counts.Count(c => c >= 0.02 * n), entropy / Math.Log(10), confidence / n,
            Frechet(fake, real), Frechet(Rows(real, 0, half), Rows(real, half, real.GetLength(0) - half)), counts);
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

    private static double[,] Rows(double[,] x, int start, int count)
    {
        var r = new double[count, x.GetLength(1)];
        for (int i = 0; i < count; i++) for (int j = 0; j < x.GetLength(1); j++) r[i, j] = x[start + i, j];
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
