using System.Globalization;
using FFMpegCore;
using FFMpegCore.Exceptions;

namespace Lab.Figures.Animation;

/// <summary>The ffmpeg program could not write a file; the message says why.</summary>
public sealed class FfmpegException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// MP4 (H.264, yuv420p: plays in browsers and on phones) and palette-optimised GIFs through FFMpegCore. The frames go
/// to numbered PNGs in a temporary folder; ffmpeg writes a temporary file beside the target, which is then moved over it.
/// </summary>
public static class Ffmpeg
{
    /// <summary>The ffmpeg executable on PATH, or null.</summary>
    public static string? Find()
    {
        string name = OperatingSystem.IsWindows() ? "ffmpeg.exe" : "ffmpeg";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Writes <c>stem.mp4</c> or <c>stem.gif</c>; returns its path.</summary>
    public static string Write(string stem, IReadOnlyList<Figure> frames, VideoFormat format, int delayCentiseconds)
    {
        if (format == VideoFormat.ManagedGif) throw new ArgumentException("The managed GIF needs no ffmpeg.", nameof(format));
        if (frames.Count == 0) throw new ArgumentException("An animation needs at least one frame.", nameof(frames));
        string ffmpeg = Find() ?? throw new FfmpegException("ffmpeg is not on PATH");
        string extension = format == VideoFormat.Mp4 ? "mp4" : "gif";
        string path = Path.GetFullPath($"{stem}.{extension}");
        string temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var folder = Directory.CreateTempSubdirectory("genlab-frames-");
        try
        {
            for (int i = 0; i < frames.Count; i++) frames[i].SavePng(Path.Combine(folder.FullName, $"{i:D5}.png"));
            string rate = (100.0 / delayCentiseconds).ToString("0.####", CultureInfo.InvariantCulture);
            // H.264 in yuv420p needs even sides: pad with the background; the GIF gets one palette for the whole clip.
            string filter = format == VideoFormat.Mp4
                ? "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white"
                : "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a";
            FFMpegArguments
                .FromFileInput(Path.Combine(folder.FullName, "%05d.png"), verifyExists: false, o => o.WithCustomArgument($"-framerate {rate}"))
                .OutputToFile(temp, overwrite: true, o =>
                {
                    o.WithCustomArgument($"-vf \"{filter}\"");
                    if (format == VideoFormat.Mp4) o.WithVideoCodec("libx264").WithCustomArgument("-pix_fmt yuv420p").WithFastStart().ForceFormat("mp4");
                    else o.WithCustomArgument("-loop 0").ForceFormat("gif");
                })
                .Configure(options => options.BinaryFolder = Path.GetDirectoryName(ffmpeg)!)
                .ProcessSynchronously(throwOnError: true);
            if (!File.Exists(temp)) throw new FfmpegException($"ffmpeg wrote no {extension} file");
            File.Move(temp, path, overwrite: true);
            return path;
        }
        catch (Exception e) when (e is FFMpegException or System.ComponentModel.Win32Exception or IOException)
        {
            throw new FfmpegException(e.Message.Split('\n')[0].Trim(), e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
            folder.Delete(recursive: true);
        }
    }
}
