namespace Lab.Core.Imaging;

/// <summary>A named sequence of numbers: one curve of a line plot or one series of a grouped bar chart.</summary>
public sealed record Series(string Name, IReadOnlyList<double> Values);

/// <summary>
/// The figures the seeds draw, ready made. Each returns a <see cref="Figure"/> to save (<see cref="Figure.Save"/>)
/// or adjust further. Inputs are plain arrays: points are interleaved (x0, y0, x1, y1, ...), images are
/// row-major squares (64 or 784 values), intensities in [0, 1] shown dark = high.
/// </summary>
public static partial class Plots
{
    private static (double[] X, double[] Y) Split(float[] xy, string name)
    {
        ArgumentNullException.ThrowIfNull(xy, name);
        if (xy.Length % 2 != 0)
        {
            throw new ArgumentException($"{name} must hold interleaved x, y pairs; it has {xy.Length} values.", name);
        }
        var x = new double[xy.Length / 2];
        var y = new double[xy.Length / 2];
        for (int i = 0; i < x.Length; i++)
        {
            (x[i], y[i]) = (xy[2 * i], xy[2 * i + 1]);
        }
        return (x, y);
    }

    private static int ClassCount(int given, params ReadOnlySpan<int> seen)
    {
        int max = -1;
        foreach (int c in seen)
        {
            if (c < 0)
            {
                throw new ArgumentException($"Class labels must not be negative; got {c}.");
            }
            max = Math.Max(max, c);
        }
        return Math.Max(given, max + 1);
    }

    /// <summary>One scatter layer per class, labelled "class k", in the palette's colours.</summary>
    private static void ClassLayers(Axes axes, float[] xy, int[] labels, int classes, double radius)
    {
        var (x, y) = Split(xy, nameof(xy));
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != x.Length)
        {
            throw new ArgumentException($"{x.Length} points but {labels.Length} labels.", nameof(labels));
        }
        for (int c = 0; c < classes; c++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < labels.Length; i++)
            {
                if (labels[i] == c)
                {
                    xs.Add(x[i]);
                    ys.Add(y[i]);
                }
            }
            var layer = axes.Scatter(xs.ToArray(), ys.ToArray(), Palette.Class(c), $"class {c}");
            layer.Radius = radius;
        }
    }

    /// <summary>Marker radius that keeps thousands of points readable and a few dozen visible.</summary>
    private static double PointRadius(int count) => count switch
    {
        <= 200 => 4.5,
        <= 1000 => 3.8,
        <= 4000 => 3.2,
        _ => 2.5,
    };
}
