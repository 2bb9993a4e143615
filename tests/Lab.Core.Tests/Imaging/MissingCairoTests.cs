using Lab.Core.Imaging;
using Lab.Core.Tests.IO;

namespace Lab.Core.Tests.Imaging;

/// <summary>The "no libcairo" path, simulated for this test's flow only (other tests keep the real library).</summary>
public class MissingCairoTests
{
    [Fact]
    public void Save_WritesSvgOnly_AndSaysWhyOnce()
    {
        using var tmp = new TempDirectory();
        var messages = new StringWriter();
        using (Cairo.SimulateMissing(messages))
        {
            Assert.False(Cairo.IsAvailable);
            var first = Plots.ClassScatter([0, 0, 1, 1], [0, 1]).Save(tmp.File("a"));
            var second = Plots.ClassScatter([0, 0, 1, 1], [0, 1]).Save(tmp.File("b"));
            Assert.Equal([tmp.File("a.svg")], first.Written);
            Assert.Null(first.Png);
            Assert.Contains("Cairo", first.Problem);
            Assert.NotNull(second.Problem);
            Assert.Equal([tmp.File("a.svg"), tmp.File("b.svg")], Directory.GetFiles(tmp.Path).Order());
        }
        string said = messages.ToString();
        Assert.Contains("SVG only", said);
        Assert.Single(said.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // once, not per figure
    }

    [Fact]
    public void RenderAndGif_ReturnNothingWithoutThrowing_AndDoNotEnumerateFrames()
    {
        using var tmp = new TempDirectory();
        using (Cairo.SimulateMissing())
        {
            Assert.Null(new Figure().Render(out string? problem));
            Assert.NotNull(problem);
            Assert.False(new Figure().SavePng(tmp.File("x.png"), out _));

            bool enumerated = false;
            IEnumerable<Figure> Frames()
            {
                enumerated = true;
                yield return new Figure();
            }
            var result = Animation.SaveGif(tmp.File("x.gif"), Frames());
            Assert.Empty(result.Written);
            Assert.NotNull(result.Problem);
            Assert.False(enumerated);
            Assert.Empty(Directory.GetFiles(tmp.Path));
        }
    }

    [Fact]
    public void SampleGrids_NeedNoCairo()
    {
        using var tmp = new TempDirectory();
        using (Cairo.SimulateMissing())
        {
            var images = Enumerable.Range(0, 6).Select(k => Enumerable.Range(0, 64).Select(i => (float)((i + k) % 9 / 8.0)).ToArray()).ToList();
            var raster = SampleGrid.SavePng(tmp.File("grid.png"), images, columns: 3, scale: 2, gap: 1);
            var png = PngReader.Decode(File.ReadAllBytes(tmp.File("grid.png")));
            Assert.Equal(raster.Pixels, png.Pixels);
        }
    }

    [Fact]
    public void Simulation_EndsWithItsScope()
    {
        bool before = Cairo.IsAvailable;
        using (Cairo.SimulateMissing())
        {
            Assert.False(Cairo.IsAvailable);
        }
        Assert.Equal(before, Cairo.IsAvailable);
    }
}
