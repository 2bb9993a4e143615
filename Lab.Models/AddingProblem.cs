using Lab.Core;
using Lab.Core.Data;

namespace Lab.Models;

/// <summary>
/// The adding problem (Hochreiter &amp; Schmidhuber 1997, experiment 4, in the form of Le, Jaitly &amp; Hinton 2015):
/// a sequence of <c>length</c> steps, each with two channels, a value u_t ~ U[0, 1] and a marker m_t ∈ {0, 1}.
/// Exactly two steps are marked, one drawn uniformly from the first half and one from the second half; the target
/// is the sum of the two marked values. A model that ignores the input does best predicting E[u1 + u2] = 1 and
/// scores MSE = Var(u1 + u2) = 1/6 ≈ 0.167, the line every model has to beat.
/// </summary>
public static class AddingProblem
{
    /// <summary>The mean squared error of predicting the mean, 1.0: Var(u1 + u2) = 2 · 1/12.</summary>
    public const double BaselineMse = 1.0 / 6.0;

    /// <summary>
    /// <paramref name="count"/> sequences [count, length, 2] (value, marker) and their targets [count, 1], drawn from
    /// <paramref name="g"/> sequence by sequence: the values, then the first marker's step, then the second's.
    /// </summary>
    public static (Tensor X, Tensor Y) Sample(Generator g, int count, int length, Device? device = null)
    {
        var (x, y) = Draw(g, count, length);
        return (Tensor.FromArray(x, [count, length, 2], device), Tensor.FromArray(y, [count, 1], device));
    }

    /// <summary><see cref="Sample"/> as a dataset for Trainer.Fit (samples [length, 2], targets [1]).</summary>
    public static Dataset Data(Generator g, int count, int length)
    {
        var (x, y) = Draw(g, count, length);
        return new Dataset(x, [length, 2], y, [1]);
    }

    private static (float[] X, float[] Y) Draw(Generator g, int count, int length)
    {
        if (count < 1) throw new ArgumentException($"AddingProblem.Sample: count must be positive, got {count}.");
        if (length < 2) throw new ArgumentException($"AddingProblem.Sample: length must be at least 2 (one marker in each half), got {length}.");
        var x = new float[count * length * 2];
        var y = new float[count];
        int half = length / 2;
        var values = new float[length];
        for (int n = 0; n < count; n++)
        {
            g.FillUniform(values);
            int first = g.NextInt(half), second = half + g.NextInt(length - half);
            var row = x.AsSpan(n * length * 2, length * 2);
            for (int t = 0; t < length; t++) row[2 * t] = values[t];
            row[2 * first + 1] = 1f;
            row[2 * second + 1] = 1f;
            y[n] = values[first] + values[second];
        }
        return (x, y);
    }
}
