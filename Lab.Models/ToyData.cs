using Lab.Core;
using Lab.Core.Data;

namespace Lab.Models;

/// <summary>
/// The seeds' ToyDataGenerator: a mixture of 5 Gaussians in the plane. One stream (seed 3): first the
/// class means mu_c ~ N(0, I), then each Sample(n) draws, class by class, n/5 points mu_c + N(0, 0.2² I)
/// labelled c, continuing the stream. The seeds use numpy's PCG64; the recipe, not the bits, is reproduced.
/// </summary>
public sealed class ToyData
{
    private readonly Generator _g;

    public ToyData(int classes = 5, float std = 0.2f, ulong seed = 3)
    {
        if (classes < 1) throw new ArgumentException($"ToyData: need at least one class, got {classes}.");
        Classes = classes;
        Std = std;
        _g = new Generator(seed);
        Means = new float[classes * 2];
        _g.FillNormal(Means);
    }

    public int Classes { get; }
    public float Std { get; }
    /// <summary>Class means, [classes, 2] row-major.</summary>
    public float[] Means { get; }

    public Dataset Sample(int n)
    {
        if (n < Classes || n % Classes != 0) throw new ArgumentException($"ToyData.Sample: n must be a positive multiple of {Classes}, got {n}.");
        int per = n / Classes;
        var x = new float[n * 2];
        var labels = new int[n];
        for (int c = 0, k = 0; c < Classes; c++)
            for (int i = 0; i < per; i++, k++)
            {
                x[2 * k] = Means[2 * c] + Std * (float)_g.NextNormal();
                x[2 * k + 1] = Means[2 * c + 1] + Std * (float)_g.NextNormal();
                labels[k] = c;
            }
        return Dataset.WithLabels(x, [2], labels);
    }
}

/// <summary>
/// Seed 000's regression data: x ~ U(-3, 3), y = sin(x), and half the points (chosen at random) get
/// N(0, 0.2²) noise added. One stream, seed 1.
/// </summary>
public sealed class NoisySin(ulong seed = 1)
{
    private readonly Generator _g = new(seed);

    public Dataset Sample(int n)
    {
        if (n < 1) throw new ArgumentException($"NoisySin.Sample: n must be positive, got {n}.");
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++) x[i] = -3 + 6 * _g.NextFloat();
        for (int i = 0; i < n; i++) y[i] = MathF.Sin(x[i]);
        for (int i = 0; i < n; i++)
        {
            float noise = 0.2f * (float)_g.NextNormal();
            if (_g.NextFloat() < 0.5f) y[i] += noise;
        }
        return new Dataset(x, [1], y, [1]);
    }
}
