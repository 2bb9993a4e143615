using Lab.Core.Data;

namespace Lab.Core.Tests;

/// <summary>
/// Labelled points in the plane for the trainer, callback and scope tests: <c>classes</c> Gaussian blobs of spread
/// <c>std</c> around means drawn N(0, I), one stream per seed, n/classes points per class in class order. (The same
/// recipe as the course's toy mixture in Lab.Models, which the engine's tests do not depend on.)
/// </summary>
public sealed class Blobs
{
    private readonly Generator _g;
    private readonly float _std;

    public Blobs(int classes = 5, float std = 0.2f, ulong seed = 3)
    {
        _g = new Generator(seed);
        _std = std;
        Classes = classes;
        Means = new float[classes * 2];
        _g.FillNormal(Means);
    }

    public int Classes { get; }
    /// <summary>Class means, [classes, 2] row-major.</summary>
    public float[] Means { get; }

    public Dataset Sample(int n)
    {
        int per = n / Classes;
        var x = new float[n * 2];
        var labels = new int[n];
        for (int c = 0, k = 0; c < Classes; c++)
            for (int i = 0; i < per; i++, k++)
            {
                x[2 * k] = Means[2 * c] + _std * (float)_g.NextNormal();
                x[2 * k + 1] = Means[2 * c + 1] + _std * (float)_g.NextNormal();
                labels[k] = c;
            }
        return Dataset.WithLabels(x, [2], labels);
    }
}
