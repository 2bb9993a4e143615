using System.Xml.Linq;
using Lab.Core.Imaging;
using Lab.Core.Tests.IO;

namespace Lab.Core.Tests.Imaging;

public class GalleryTests
{
    /// <summary>Renders every plot kind and saves it; set GENLAB_IMAGING_LOOK to a folder to keep the files and
    /// look at them.</summary>
    [Fact]
    public void EveryPlot_SavesSvgAndPngWhenCairoIsThere()
    {
        using var tmp = new TempDirectory();
        string folder = Environment.GetEnvironmentVariable("GENLAB_IMAGING_LOOK") is { Length: > 0 } look ? look : tmp.Path;
        foreach (var (name, figure) in Gallery.All())
        {
            var result = figure.Save(Path.Combine(folder, name));
            Assert.NotNull(result.Svg);
            XDocument.Load(result.Svg!);
            Assert.Equal(Cairo.IsAvailable, result.Png is not null);
            if (result.Png is not null)
            {
                Assert.True(Png.Signature.SequenceEqual(File.ReadAllBytes(result.Png).AsSpan(0, 8)));
            }
        }
    }

    /// <summary>With GENLAB_IMAGING_LOOK set: a 50-frame Langevin GIF like the experiment's, its first frame
    /// decoded back to PNG (to judge the quantisation), and the time it took.</summary>
    [CairoFact]
    public void LangevinGif_ForLooking()
    {
        if (Environment.GetEnvironmentVariable("GENLAB_IMAGING_LOOK") is not { Length: > 0 } folder)
        {
            return; // nothing to look at; the GIF path itself is covered by CairoTests
        }
        var rng = new Random(4);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var means = Enumerable.Range(0, 5).Select(_ => (X: Normal(), Y: Normal())).ToArray();
        float[] data = [.. Enumerable.Range(0, 3000).SelectMany(i => new[] { (float)(means[i / 600].X + 0.2 * Normal()), (float)(means[i / 600].Y + 0.2 * Normal()) })];
        float[] samples = [.. Enumerable.Range(0, 10000).Select(_ => (float)(1.3 * Normal()))];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        IEnumerable<Figure> Frames()
        {
            for (int step = 0; step <= 50; step++)
            {
                yield return Plots.LangevinFrame(data, samples, step, 50);
                for (int i = 0; i < samples.Length / 2; i++)
                {
                    // Drift toward the nearest mean plus noise: enough to look like sampling.
                    var m = means.MinBy(m => Math.Pow(samples[2 * i] - m.X, 2) + Math.Pow(samples[2 * i + 1] - m.Y, 2));
                    samples[2 * i] += (float)(0.1 * (m.X - samples[2 * i]) + 0.05 * Normal());
                    samples[2 * i + 1] += (float)(0.1 * (m.Y - samples[2 * i + 1]) + 0.05 * Normal());
                }
            }
        }
        var result = Animation.SaveGif(Path.Combine(folder, "langevin.gif"), Frames());
        File.WriteAllText(Path.Combine(folder, "langevin-gif-time.txt"), $"{watch.Elapsed.TotalSeconds:F2} s, {new FileInfo(result.Gif!).Length} bytes\n");
        var first = GifReader.Read(File.ReadAllBytes(result.Gif!)).Frames[10];
        var raster = new Raster(first.Width, first.Height, PixelFormat.Rgb);
        var colors = first.Colors();
        for (int i = 0; i < colors.Length; i++)
        {
            raster[i % first.Width, i / first.Width] = new Color((byte)(colors[i] >> 16), (byte)(colors[i] >> 8), (byte)colors[i]);
        }
        raster.SavePng(Path.Combine(folder, "langevin-gif-frame10.png"));
    }
}
