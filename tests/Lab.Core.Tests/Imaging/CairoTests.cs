using Lab.Core.Imaging;
using Lab.Core.Tests.IO;

namespace Lab.Core.Tests.Imaging;

public class CairoTests
{
    [CairoFact]
    public void FilledRectangle_HasItsColourAtTheCentreAndBackgroundOutside()
    {
        var raster = Cairo.TryRender(40, 30, canvas =>
        {
            canvas.FillRect(0, 0, 40, 30, Color.White);
            canvas.FillRect(10, 5, 20, 20, Palette.Class(3));
        }, out string? problem);
        Assert.Null(problem);
        Assert.NotNull(raster);
        Assert.Equal(Palette.Class(3), raster![20, 15]);
        Assert.Equal(Palette.Class(3), raster[10, 5]); // pixel-aligned edges are exact
        Assert.Equal(Color.White, raster[9, 15]);
        Assert.Equal(Color.White, raster[30, 15]);
    }

    [CairoFact]
    public void HalfTransparentFill_IsReadBackAsStraightAlpha()
    {
        var raster = Cairo.TryRender(4, 4, canvas => canvas.FillRect(0, 0, 4, 4, new Color(200, 100, 50, 128)), out _)!;
        var c = raster[2, 2];
        Assert.Equal(128, c.A);
        Assert.InRange(c.R, 198, 202);
        Assert.InRange(c.G, 98, 102);
        Assert.InRange(c.B, 48, 52);
    }

    [CairoFact]
    public void Circle_IsAntiAliased()
    {
        var raster = Cairo.TryRender(21, 21, canvas =>
        {
            canvas.FillRect(0, 0, 21, 21, Color.White);
            canvas.Markers([10.5], [10.5], Marker.Circle, 7.3, Color.Black, null, 0);
        }, out _)!;
        Assert.Equal(Color.Black, raster[10, 10]);
        Assert.Equal(Color.White, raster[0, 0]);
        // Along the rim some pixels are partly covered: neither white nor black.
        var greys = Enumerable.Range(0, 21).Select(x => raster[x, 10].R).Where(v => v is > 10 and < 245).ToList();
        Assert.NotEmpty(greys);
    }

    [CairoFact]
    public void Text_PutsInkInsideItsEstimatedBox()
    {
        var raster = Cairo.TryRender(200, 40, canvas =>
        {
            canvas.FillRect(0, 0, 200, 40, Color.White);
            canvas.Text("Langevin 12", 100, 20, 16, Color.Black, HAlign.Center, VAlign.Middle);
        }, out _)!;
        double width = TextMetrics.Width("Langevin 12", 16);
        int inkInside = 0, inkOutside = 0;
        for (int y = 0; y < 40; y++)
        {
            for (int x = 0; x < 200; x++)
            {
                if (raster[x, y].R < 128)
                {
                    bool inside = x >= 100 - width / 2 - 2 && x <= 100 + width / 2 + 2 && y >= 20 - 10 && y <= 20 + 10;
                    _ = inside ? inkInside++ : inkOutside++;
                }
            }
        }
        Assert.True(inkInside > 50, $"only {inkInside} dark pixels: was any text drawn?");
        Assert.Equal(0, inkOutside);
    }

    [CairoFact]
    public void FigureRender_PlacesDataWhereTheAxesSay()
    {
        // A red square image over [0, 1] x [0, 1] on fixed limits [-1, 2]: it fills the middle third of the plot.
        var figure = new Figure(300, 300);
        var axes = figure.Axes;
        axes.Hidden = true;
        axes.XLimits = (-1, 2);
        axes.YLimits = (-1, 2);
        var red = new Raster(1, 1, PixelFormat.Rgb);
        red[0, 0] = new Color(220, 20, 30);
        axes.Image(red, 0, 1, 0, 1);
        var raster = figure.Render(out _)!;
        Assert.Equal((300, 300), (raster.Width, raster.Height));
        Assert.Equal(new Color(220, 20, 30), raster[150, 150]);
        Assert.Equal(Color.White, raster[50, 50]);
        Assert.Equal(Color.White, raster[250, 250]);
    }

    [CairoFact]
    public void SavePngAndSvg_WritesBothAtomically()
    {
        using var tmp = new TempDirectory();
        var result = Plots.LangevinFrame([0, 0, 1, 1], [-1, -1, 5, 5], 3, 50).Save(tmp.File("frame.png"));
        Assert.Null(result.Problem);
        Assert.Equal([tmp.File("frame.png"), tmp.File("frame.svg")], result.Written);
        var png = PngReader.Decode(File.ReadAllBytes(result.Png!));
        Assert.Equal((640, 480), (png.Width, png.Height));
        Assert.Equal(2, Directory.GetFiles(tmp.Path).Length); // no temporary files left
    }

    [CairoFact]
    public void LangevinAnimation_IsAGifOfEveryFrameAtFourFramesPerSecond()
    {
        using var tmp = new TempDirectory();
        var rng = new Random(1);
        float[] data = [.. Enumerable.Range(0, 400).Select(_ => (float)(rng.NextDouble() * 4 - 2))];
        int enumerated = 0;
        IEnumerable<Figure> Frames()
        {
            for (int step = 0; step < 4; step++)
            {
                enumerated++;
                yield return Plots.LangevinFrame(data, [.. data.Select(v => v * (1 + step * 0.3f))], step, 4, 320, 240);
            }
        }
        var result = Animation.SaveGif(tmp.File("langevin.gif"), Frames());
        Assert.Null(result.Problem);
        Assert.Equal(4, enumerated);
        var gif = GifReader.Read(File.ReadAllBytes(result.Gif!));
        Assert.Equal((320, 240), (gif.Width, gif.Height));
        Assert.Equal(0, gif.LoopCount);
        Assert.Equal(4, gif.Frames.Count);
        Assert.All(gif.Frames, f => Assert.Equal(25, f.DelayCentiseconds));
        // The corner is the white figure background in every frame.
        Assert.All(gif.Frames, f => Assert.Equal(0xFFFFFF, f.Colors()[0]));
    }

    [CairoFact]
    public void SampleGridFigure_ShowsTheTilesPixelForPixel()
    {
        var rng = new Random(2);
        var images = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)rng.NextDouble()).ToArray()).ToList();
        foreach (string? title in new[] { null, "VAE samples" })
        {
            var figure = Plots.Samples(images, columns: 4, title: title, targetSide: 200);
            var tiles = SampleGrid.Tile(images, 4, scale: (200 - 5) / 32, gap: 1);
            var raster = figure.Render(out _)!;
            // The grid sits 10 pixels in from the left; find its top (below the title) and compare every pixel.
            int top = Enumerable.Range(0, 60).First(y => raster[10, y] == Color.Grey(tiles.Pixels[0]) && raster[11, y + 1] == Color.Grey(tiles.Pixels[tiles.Width + 1]));
            for (int y = 0; y < tiles.Height; y++)
            {
                for (int x = 0; x < tiles.Width; x++)
                {
                    Assert.Equal(Color.Grey(tiles.Pixels[y * tiles.Width + x]), raster[10 + x, top + y]);
                }
            }
        }
    }
}
