using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Data.Files;

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
    public static (Dataset Train, Dataset Test) Split(ulong seed) => All().Split(0.2, new Generator(seed * 7919 + 42));
}
