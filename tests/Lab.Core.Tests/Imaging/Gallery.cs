using Lab.Core.Imaging;
using Lab.Core.Training;

namespace Lab.Core.Tests.Imaging;

/// <summary>Every ready-made plot on synthetic data shaped like the experiments' (seeded, no models).</summary>
internal static class Gallery
{
    public static IEnumerable<(string Name, Figure Figure)> All()
    {
        var rng = new Random(3);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

        // Toy mixture: five classes around random means.
        var means = Enumerable.Range(0, 5).Select(_ => (X: Normal(), Y: Normal())).ToArray();
        var xy = new float[2 * 3000];
        var labels = new int[3000];
        for (int i = 0; i < 3000; i++)
        {
            int c = i / 600;
            labels[i] = c;
            xy[2 * i] = (float)(means[c].X + 0.2 * Normal());
            xy[2 * i + 1] = (float)(means[c].Y + 0.2 * Normal());
        }
        yield return ("data", Plots.ClassScatter(xy, labels));

        var grid = new int[300, 300];
        (double Min, double Max) xr = (-3, 3), yr = (-3, 3);
        for (int i = 0; i < 300; i++)
        {
            for (int j = 0; j < 300; j++)
            {
                double x = xr.Min + (xr.Max - xr.Min) * j / 299, y = yr.Min + (yr.Max - yr.Min) * i / 299;
                grid[i, j] = Enumerable.Range(0, 5).MinBy(c => Math.Pow(x - means[c].X, 2) + Math.Pow(y - means[c].Y, 2));
            }
        }
        var testXy = xy.Where((_, i) => (i / 2) % 10 == 0).ToArray();
        var testLabels = labels.Where((_, i) => i % 10 == 0).ToArray();
        yield return ("regions", Plots.DecisionRegions(grid, xr, yr, testXy, testLabels));

        var rx = Enumerable.Range(0, 200).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var ry = rx.Select(v => (float)(Math.Sin(v) + 0.2 * Normal())).ToArray();
        var cx = Enumerable.Range(0, 100).Select(i => (float)(-3 + 6 * i / 99.0)).ToArray();
        yield return ("regression", Plots.Fit(rx, ry, cx, cx.Select(v => (float)Math.Sin(v)).ToArray()));

        var digits = Enumerable.Range(0, 100).Select(k => Digit(k % 10, rng)).ToArray();
        yield return ("digit", Plots.Digit(digits[3], "digit 3"));
        yield return ("digit28", Plots.Digit(Upscale(digits[7], 28), "28 x 28"));

        var probabilities = Enumerable.Range(0, 3).Select(r =>
        {
            var p = Enumerable.Range(0, 10).Select(_ => (float)rng.NextDouble() * 0.1f).ToArray();
            p[(r * 3 + 1) % 10] += 2f;
            float sum = p.Sum();
            return p.Select(v => v / sum).ToArray();
        }).ToArray();
        yield return ("digit-probabilities", Plots.DigitProbabilities(digits[1..4], probabilities, [1, 2, 3]));
        yield return ("samples", Plots.Samples(digits, 10, "VAE samples"));

        var adversarial = digits[..3].Select(d => d.Select(v => Math.Clamp(v + (float)(0.15 * Normal()), 0f, 1f)).ToArray()).ToArray();
        yield return ("adversarial", Plots.AdversarialPairs(digits[..3], adversarial, [0, 1, 2], [8, 7, 3]));

        var data = xy[..6000];
        var samples = Enumerable.Range(0, 10000).Select(_ => (float)(1.5 * Normal())).ToArray();
        yield return ("langevin", Plots.LangevinFrame(data, samples, 12, 50));

        var history = new History();
        for (int e = 1; e <= 10; e++)
        {
            history.Add(e, new Dictionary<string, double>
            {
                ["loss"] = 1.5 * Math.Exp(-0.4 * e) + 0.05, ["val_loss"] = 1.6 * Math.Exp(-0.35 * e) + 0.08,
                ["accuracy"] = 1 - 0.7 * Math.Exp(-0.5 * e), ["val_accuracy"] = 0.97 - 0.7 * Math.Exp(-0.45 * e),
            });
        }
        yield return ("history", Plots.TrainingHistory(history));
        yield return ("loss", Plots.LossCurves([new Series("generator", [.. Enumerable.Range(0, 20).Select(e => 0.7 + 0.3 * Math.Sin(e / 3.0))]),
            new Series("discriminator", [.. Enumerable.Range(0, 20).Select(e => 1.3 - 0.02 * e)])], "GAN losses"));

        double[] budgets = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];
        yield return ("budget", Plots.Lines(budgets, [new Series("SGD attack", [.. budgets.Select(b => 1 - Math.Exp(-12 * b))]),
            new Series("FGSM", [.. budgets.Select(b => 1 - Math.Exp(-6 * b))])], "Attack success vs L\u221E budget", "\u03B5 (L\u221E budget)", "success rate", yLimits: (0, 1.02)));

        var confusion = new int[10, 10];
        for (int i = 0; i < 360; i++)
        {
            int t = i % 10;
            confusion[t, rng.NextDouble() < 0.9 ? t : rng.Next(10)]++;
        }
        yield return ("confusion", Plots.ConfusionMatrix(confusion));

        string[] workloads = ["matmul 512", "conv 28x28 batch 32", "MNIST epoch", "digits CNN epoch"];
        Series[] devices =
        [
            new("CPU", [12.5, 48.0, 21000, 830]),
            new("GPU", [0.9, 3.1, 2400, double.NaN]),
            new("PyTorch", [0.7, 2.2, 1900, 95]),
        ];
        yield return ("bench", Plots.GroupedBars(workloads, devices, "Time per workload", "milliseconds", logScale: true));
        yield return ("bench-linear", Plots.GroupedBars(workloads[..2], [new("CPU", [12.5, 48.0]), new("GPU", [0.9, 3.1]), new("PyTorch", [0.7, 2.2])], "Time per workload", "milliseconds"));
    }

    /// <summary>A crude 8x8 "digit": a ring or bar whose shape depends on the class, plus noise.</summary>
    public static float[] Digit(int c, Random rng)
    {
        var p = new float[64];
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                double r = Math.Sqrt(Math.Pow(x - 3.5, 2) + Math.Pow(y - 3.5, 2));
                double v = c switch
                {
                    0 => Math.Exp(-Math.Pow(r - 2.7, 2) * 2),
                    1 => Math.Exp(-Math.Pow(x - 4, 2)),
                    _ => Math.Exp(-Math.Pow(x + y * (c - 5) / 4.0 - 4, 2) / 2) * (y > 0 && y < 7 ? 1 : 0.3),
                };
                p[y * 8 + x] = (float)Math.Clamp(v + 0.08 * rng.NextDouble(), 0, 1);
            }
        }
        return p;
    }

    private static float[] Upscale(float[] d, int side)
    {
        var p = new float[side * side];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = d[(i / side * 8 / side) * 8 + (i % side) * 8 / side];
        }
        return p;
    }
}
