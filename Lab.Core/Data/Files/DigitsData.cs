namespace Lab.Core.Data.Files;

/// <summary>
/// The 8x8 digits: <see cref="Images"/> holds <see cref="Count"/> images of 64 floats each (row-major 8x8,
/// pixel counts 0..16 divided by 16 into [0, 1]); <see cref="Labels"/> holds the class 0..9 of each image.
/// </summary>
public sealed record DigitsData(float[] Images, int[] Labels, int Count)
{
    /// <summary>Image height and width in pixels.</summary>
    public const int Side = 8;

    /// <summary>Pixels per image.</summary>
    public const int PixelsPerImage = Side * Side;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>The 64 pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Images.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }
}
