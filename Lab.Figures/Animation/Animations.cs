using Lab.Core.IO;

namespace Lab.Figures.Animation;

/// <summary>How an animation is written: GenLab's managed GIF encoder (no external program), or ffmpeg's H.264 MP4 or
/// palette-optimised GIF.</summary>
public enum VideoFormat
{
    ManagedGif,
    Mp4,
    FfmpegGif,
}

/// <summary>
/// Animations from figures. The managed GIF renders and encodes one frame at a time, so a 50-step Langevin run never
/// holds 50 bitmaps; the ffmpeg formats render the frames to PNGs in a temporary folder first (see <see cref="Ffmpeg"/>).
/// </summary>
public static class Animations
{
    /// <summary>
    /// Writes <paramref name="frames"/> as <c>stem.gif</c> or <c>stem.mp4</c> (atomically), each frame shown
    /// <paramref name="delayCentiseconds"/> hundredths of a second (25 = 4 frames per second), looping forever.
    /// When <paramref name="format"/> needs ffmpeg and it is missing or fails, <paramref name="note"/> hears one line
    /// saying so and the managed GIF is written. Returns the file written.
    /// </summary>
    public static string Save(string stem, IEnumerable<Figure> frames, VideoFormat format = VideoFormat.ManagedGif,
        int delayCentiseconds = 25, Action<string>? note = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stem);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentOutOfRangeException.ThrowIfLessThan(delayCentiseconds, 1);
        if (format != VideoFormat.ManagedGif)
        {
            string wanted = format == VideoFormat.Mp4 ? "MP4" : "palette-optimised GIF";
            if (Ffmpeg.Find() is null)
            {
                note?.Invoke($"{Path.GetFileName(stem)}: the {wanted} needs ffmpeg, which is not on PATH (install it, e.g. `apt-get install ffmpeg`); " +
                             "wrote GenLab's own GIF instead.");
            }
            else
            {
                var list = frames as IReadOnlyList<Figure> ?? frames.ToList();
                try
                {
                    return Ffmpeg.Write(stem, list, format, delayCentiseconds);
                }
                catch (FfmpegException e)
                {
                    note?.Invoke($"{Path.GetFileName(stem)}: ffmpeg could not write the {wanted} ({e.Message}); wrote GenLab's own GIF instead.");
                }
                frames = list;
            }
        }
        string path = stem + ".gif";
        AtomicFile.Write(path, stream =>
        {
            GifWriter? gif = null;
            foreach (var figure in frames)
            {
                using var frame = figure.Render();
                gif ??= new GifWriter(stream, frame.Width, frame.Height, delayCentiseconds);
                gif.AddFrame(frame);
            }
            if (gif is null) throw new ArgumentException("An animation needs at least one frame.", nameof(frames));
            gif.Dispose();
        });
        return path;
    }
}
