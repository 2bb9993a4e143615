using Lab.Core.IO;

namespace Lab.Core.Imaging;

/// <summary>Animated GIFs from figures: each figure is rendered through Cairo and appended as a frame, one at a
/// time, so a 50-step Langevin run never holds 50 rasters.</summary>
public static class Animation
{
    /// <summary>
    /// Writes <paramref name="frames"/> to <paramref name="path"/> (atomically) as a GIF that loops forever,
    /// each frame shown <paramref name="delayCentiseconds"/> hundredths of a second (25 = 4 frames per second).
    /// Frames are enumerated lazily. Without Cairo nothing is written and the result says why (reported once);
    /// frames are not enumerated then.
    /// </summary>
    public static SaveResult SaveGif(string path, IEnumerable<Figure> frames, int delayCentiseconds = 25)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(frames);
        if (!Cairo.Check(out string? problem))
        {
            return new SaveResult([], problem);
        }

        string? failure = null;
        AtomicFile.Write(path, stream =>
        {
            GifWriter? gif = null;
            foreach (var figure in frames)
            {
                var raster = figure.Render(out failure) ?? throw new InvalidOperationException(failure);
                gif ??= new GifWriter(stream, raster.Width, raster.Height, delayCentiseconds);
                gif.AddFrame(raster);
            }
            if (gif is null)
            {
                throw new ArgumentException("An animation needs at least one frame.", nameof(frames));
            }
            gif.Dispose();
        });
        return new SaveResult([path], null);
    }
}
