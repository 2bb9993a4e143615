namespace Lab.Core.Data.Files;

/// <summary>
/// Images read from an IDX file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> pixels,
/// row-major, bytes divided by 255 into [0, 1].
/// </summary>
public sealed record IdxImages(float[] Pixels, int Count, int Rows, int Columns)
{
    /// <summary>Pixels per image.</summary>
    public int PixelsPerImage => Rows * Columns;
}

/// <summary>An image file and its label file read together: <see cref="Labels"/>[i] is the class of image i.</summary>
public sealed record IdxLabeledImages(float[] Images, int[] Labels, int Count, int Rows, int Columns)
{
    /// <summary>Pixels per image.</summary>
    public int PixelsPerImage => Rows * Columns;
}
