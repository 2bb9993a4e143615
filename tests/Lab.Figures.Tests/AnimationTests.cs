using Lab.Figures.Animation;

namespace Lab.Figures.Tests;

public class AnimationTests
{
    private static IEnumerable<Figure> Frames(int n) =>
        Enumerable.Range(1, n).Select(i => Plots.LangevinFrame([0, 0, 1, 1], [0.1f * i, 0, -0.1f * i, 1], i, n, 160, 120));

    [Fact]
    public void ManagedGif_HasEveryFrameAtTheDelay_AndDecodesInSkia()
    {
        using var tmp = new TempDirectory();
        var notes = new List<string>();
        var path = Animations.Save(tmp.File("langevin"), Frames(4), VideoFormat.ManagedGif, 25, notes.Add);
        Assert.Equal(tmp.File("langevin.gif"), path);
        Assert.Empty(notes);
        var gif = GifReader.Read(File.ReadAllBytes(path));
        Assert.Equal((160, 120, 4), (gif.Width, gif.Height, gif.Frames.Count));
        Assert.All(gif.Frames, f => Assert.Equal(25, f.DelayCentiseconds));
        using var codec = SkiaSharp.SKCodec.Create(path);
        Assert.Equal(4, codec.FrameCount);
        // Frames differ: the samples move.
        Assert.NotEqual(gif.Frames[0].Colors(), gif.Frames[3].Colors());
        Assert.Throws<ArgumentException>(() => Animations.Save(tmp.File("none"), [], VideoFormat.ManagedGif));
        Assert.Equal(["langevin.gif"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(VideoFormat.Mp4)]
    [InlineData(VideoFormat.FfmpegGif)]
    public void Ffmpeg_WritesTheVideo_OrSaysWhatToInstall_AndWritesTheManagedGif(VideoFormat format)
    {
        using var tmp = new TempDirectory();
        var notes = new List<string>();
        var path = Animations.Save(tmp.File("clip"), Frames(5), format, 25, notes.Add);
        if (Ffmpeg.Find() is null)
        {
            var note = Assert.Single(notes);
            Assert.Contains("apt-get install ffmpeg", note);
            Assert.Equal(tmp.File("clip.gif"), path);
            Assert.Equal(5, GifReader.Read(File.ReadAllBytes(path)).Frames.Count);
            return;
        }
        Assert.Empty(notes);
        var bytes = File.ReadAllBytes(path);
        if (format == VideoFormat.Mp4)
        {
            Assert.Equal(tmp.File("clip.mp4"), path);
            Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(bytes, 4, 4));
            Assert.Contains("avc1", System.Text.Encoding.Latin1.GetString(bytes)); // H.264
        }
        else
        {
            Assert.Equal(tmp.File("clip.gif"), path);
            var gif = GifReader.Read(bytes);
            Assert.Equal((160, 120, 5), (gif.Width, gif.Height, gif.Frames.Count));
        }
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }
}
