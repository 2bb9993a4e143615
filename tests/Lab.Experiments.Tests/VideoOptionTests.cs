using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>--video mp4|gif: ffmpeg's formats where ffmpeg is installed, else one line and GenLab's own GIF.</summary>
public class VideoOptionTests
{
    [Fact]
    public void Mp4_IsWrittenThroughFfmpeg_OrTheRunSaysWhatToInstallAndWritesTheGif()
    {
        using var folder = new TempFolder();
        var r = Cli.Ok("score", "--video", "mp4", "--quick", "--out", folder["out"]);
        if (Lab.Figures.Animation.Ffmpeg.Find() is null)
        {
            Assert.Single(r.Output.Split('\n'), l => l.Contains("apt-get install ffmpeg", StringComparison.Ordinal));
            Files.AssertGif(folder["out/langevin.gif"]);
            return;
        }
        var mp4 = File.ReadAllBytes(folder["out/langevin.mp4"]);
        Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(mp4, 4, 4));
        Assert.False(File.Exists(folder["out/langevin.gif"]));
        Assert.DoesNotContain("ffmpeg", r.Output);
    }

    [Fact]
    public void AnUnknownFormatIsRefused()
    {
        var r = Cli.Run("score", "--video", "avi", "--quick");
        Assert.Equal(2, r.Code);
        Assert.Contains("--video", r.Error);
        Assert.Contains("avi", r.Error);
        Assert.Contains("own|gif|mp4", r.Error.Replace(", ", "|"));
    }
}
