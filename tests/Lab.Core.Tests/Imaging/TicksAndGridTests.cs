using Lab.Core.Imaging;

namespace Lab.Core.Tests.Imaging;

public class TicksAndGridTests
{
    [Theory]
    [InlineData(0, 1, 6, new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [InlineData(-3, 3, 7, new double[] { -3, -2, -1, 0, 1, 2, 3 })]
    [InlineData(0.3, 9.7, 6, new double[] { 2, 4, 6, 8 })]
    [InlineData(-0.4, 0.4, 3, new[] { -0.25, 0, 0.25 })] // 0.5 leaves only 0: stepped down to get three ticks
    [InlineData(0, 25, 6, new double[] { 0, 5, 10, 15, 20, 25 })]
    [InlineData(0, 1.02, 3, new[] { 0, 0.5, 1 })]
    public void Linear_PicksNiceSteps(double min, double max, int maxTicks, double[] expected)
    {
        var ticks = Ticks.Linear(min, max, maxTicks);
        Assert.Equal(expected.Length, ticks.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], ticks[i].Value, 9);
        }
    }

    [Fact]
    public void Labels_UseTheFewestDecimalsAndARealMinus()
    {
        Assert.Equal(["\u22121.0", "\u22120.5", "0.0", "0.5", "1.0"], Ticks.Linear(-1, 1, 5).Select(t => t.Label));
        Assert.Equal(["0.00", "0.25", "0.50", "0.75", "1.00"], Ticks.Linear(0, 1, 5).Select(t => t.Label));
        Assert.Equal(["0.0", "0.2"], Ticks.Linear(0, 0.2, 2).Select(t => t.Label));
    }

    [Fact]
    public void Log_TicksOnDecades_PlainOrPowers()
    {
        Assert.Equal(["1", "10", "100", "1000"], Ticks.Log(0.9, 1100).Select(t => t.Label));
        // Nine decades: powers of ten, every other one labelled.
        Assert.Equal(["10\u207B\u2076", "10\u207B\u2074", "10\u207B\u00B2", "10\u2070", "10\u00B2"], Ticks.Log(1e-6, 1e3).Select(t => t.Label));
        Assert.Equal([1, 2, 5, 10, 20, 50], Ticks.Log(1, 50).Select(t => t.Value), new ToleranceComparer());
    }

    [Fact]
    public void SampleGrid_TilesWithGapsScaleAndInkDark()
    {
        float[] a = [.. Enumerable.Repeat(1f, 4)]; // 2x2 all ink
        float[] b = [0f, 1f, 0.5f, 0f];
        var r = SampleGrid.Tile([a, b, a], columns: 2, scale: 3, gap: 1);
        Assert.Equal((1 + 2 * (6 + 1), 1 + 2 * (6 + 1)), (r.Width, r.Height));
        Assert.Equal(PixelFormat.Grey, r.Format);
        byte gap = Palette.Gap.R;
        Assert.Equal(gap, r.Pixels[0]);                       // border
        Assert.Equal(0, r.Pixels[1 * r.Width + 1]);           // first tile, ink = black
        Assert.Equal(gap, r.Pixels[1 * r.Width + 7]);         // gap column between tiles
        Assert.Equal(255, r.Pixels[1 * r.Width + 8]);         // second tile, (0,0) = 0 -> white
        Assert.Equal(0, r.Pixels[1 * r.Width + 8 + 3]);       // its (0,1) = 1 -> black, three pixels wide
        Assert.Equal(128, r.Pixels[(1 + 3) * r.Width + 8]);   // its (1,0) = 0.5 -> mid grey
        Assert.Equal(gap, r.Pixels[9 * r.Width + 10]);        // empty fourth slot stays background
    }

    [Fact]
    public void DecisionRegions_RowZeroIsAtTheBottom()
    {
        // Class 1 in the bottom half of the grid (low y), class 0 above.
        var grid = new int[10, 10];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 10; j++)
            {
                grid[i, j] = 1;
            }
        }
        var figure = Plots.DecisionRegions(grid, (0, 1), (0, 1), [], []);
        var image = Assert.IsType<ImageLayer>(figure.Axes.Layers[0]);
        Assert.Equal(1.0, image.Top);
        Assert.Equal(Palette.Class(0).Mix(Color.White, 0.55), image.Image[0, 0]); // top row = high y = class 0
        Assert.Equal(Palette.Class(1).Mix(Color.White, 0.55), image.Image[0, 9]);
        Assert.Equal((0.0, 1.0), figure.Axes.Limits() is var l ? (l.XMin, l.XMax) : default);
    }

    [Fact]
    public void AutomaticLimits_PadDataButStopAtImageAndBarEdges()
    {
        var figure = new Figure();
        figure.Axes.Scatter([0.0, 10.0], [0.0, 5.0], Palette.Class(0));
        var (x0, x1, y0, y1) = figure.Axes.Limits();
        Assert.Equal((-0.5, 10.5, -0.25, 5.25), (x0, x1, y0, y1));

        var bars = new Figure();
        bars.Axes.Bars(["a"], [[1.0, 4.0]]);
        var (bx0, bx1, by0, by1) = bars.Axes.Limits();
        Assert.Equal((-0.5, 1.5, 0.0), (bx0, bx1, by0));
        Assert.Equal(4.2, by1, 9);
    }

    private sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-9 * Math.Max(1, Math.Abs(a));

        public int GetHashCode(double v) => 0;
    }
}
