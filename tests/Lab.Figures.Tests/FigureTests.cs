using Lab.Core.Training;
using ScottPlot;
using SkiaSharp;

namespace Lab.Figures.Tests;

public class FigureTests
{
    private static float[] Cluster(int n, params (float X, float Y)[] centres)
    {
        var rng = new Random(1);
        var xy = new float[2 * n * centres.Length];
        for (int c = 0; c < centres.Length; c++)
            for (int i = 0; i < n; i++)
            {
                xy[2 * (c * n + i)] = centres[c].X + (float)(rng.NextDouble() - 0.5) * 0.6f;
                xy[2 * (c * n + i) + 1] = centres[c].Y + (float)(rng.NextDouble() - 0.5) * 0.6f;
            }
        return xy;
    }

    private static int[] Labels(int n, int classes) => [.. Enumerable.Range(0, n * classes).Select(i => i / n)];

    [Fact]
    public void TheFont_IsTheBundledDejaVuSans_WhateverNameScottPlotAsksFor()
    {
        HouseFont.Register();
        Assert.Equal("DejaVu Sans", HouseFont.Regular.FamilyName);
        Assert.Equal("DejaVu Sans", HouseFont.Bold.FamilyName);
        Assert.True(HouseFont.Bold.IsBold);
        // Names that exist on no machine here, and the ones ScottPlot uses by default, all resolve to the bundled font.
        foreach (var name in new[] { "No Such Font", "Arial", ScottPlot.Fonts.Default, ScottPlot.Fonts.Sans })
            Assert.Equal("DejaVu Sans", ScottPlot.Fonts.GetTypeface(name, bold: false, italic: false).FamilyName);
        // It has the glyphs the figures use: subscripts, Greek, norms, nabla, infinity.
        using var font = new SKFont(HouseFont.Regular);
        foreach (char c in "x\u2081\u2082 \u03c3\u03bb \u2016\u2207\u221e\u00b2\u2212")
            Assert.True(font.ContainsGlyphs(c.ToString()), $"DejaVu Sans lacks U+{(int)c:X4}");
    }

    [Fact]
    public void ClassScatter_HasItsTitleLabelsAndLegend_AsPixelsAndSvgText()
    {
        using var look = new Look();
        var figure = Plots.ClassScatter(Cluster(30, (-1, -1), (1, 1), (1, -1)), Labels(30, 3), "Toy mixture");
        var png = look.Save(figure, "class_scatter", "Toy mixture", "class 0", "class 2", "x\u2081", "x\u2082");
        // Title band: dark glyph pixels in the top 30 rows around the centre (text drawn in the bundled font).
        Assert.True(Bitmaps.Ink(png, 200, 0, 440, 30) > 100, "no title pixels");
        // The points are drawn in their class colours at their coordinates.
        var at = figure.Plot.GetPixel(new Coordinates(-1, -1));
        var c = png.GetPixel((int)at.X, (int)at.Y);
        Assert.True(Math.Abs(c.Red - 0x4C) + Math.Abs(c.Green - 0x72) + Math.Abs(c.Blue - 0xB0) < 90, $"class 0 centre is {c}");
    }

    [Fact]
    public void NegativeTickLabels_UseTheTrueMinusSign_NotAHyphen()
    {
        Assert.Equal("\u22122.5", Style.Automatic().LabelFormatter(-2.5));
        Assert.Equal("2.5", Style.Automatic().LabelFormatter(2.5));
        Assert.Equal("\u22120.5", Style.Minus("-0.5"));
        using var look = new Look();
        var figure = Plots.ClassScatter(Cluster(30, (-1, -1), (1, 1), (1, -1)), Labels(30, 3), "Toy mixture");
        look.Save(figure, "minus_ticks", "\u22121");
        var svg = File.ReadAllText(Path.Combine(look.Folder, "minus_ticks.svg"));
        Assert.DoesNotMatch(@">-\d", svg);
    }

    [Fact]
    public void DecisionRegions_PutRowZeroOfTheGridAtTheBottom_InWashedClassColours()
    {
        using var look = new Look();
        // Class 0 below y = 0 but for class 2 in the bottom-right corner, class 1 above; 40 x 40 over [-2, 2]^2.
        var grid = new int[40, 40];
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 40; j++) grid[i, j] = i >= 20 ? 1 : j >= 30 && i < 10 ? 2 : 0;
        var figure = Plots.DecisionRegions(grid, (-2, 2), (-2, 2), [-1.5f, -1.5f], [0], "Regions");
        var png = look.Save(figure, "decision_regions", "Regions", "predicted class", "class 0");
        void Expect(double x, double y, int cls)
        {
            var p = figure.Plot.GetPixel(new Coordinates(x, y));
            var got = png.GetPixel((int)p.X, (int)p.Y);
            var want = Colormap.Mix(Style.Class(cls), Colors.White, 0.55);
            Assert.True(Math.Abs(got.Red - want.R) + Math.Abs(got.Green - want.G) + Math.Abs(got.Blue - want.B) <= 9,
                $"at ({x}, {y}) expected class {cls} {want.ToHex()}, got {got}");
        }
        Expect(0, -1, 0);
        Expect(-1, 1, 1);
        Expect(1.7, -1.7, 2);
        Expect(-1.7, -0.5, 0);
        Expect(1.7, -0.5, 0);
    }

    [Fact]
    public void ConfusionMatrix_WritesEveryCount_TrueClassesTopToBottom()
    {
        using var look = new Look();
        var counts = new int[3, 3] { { 50, 2, 0 }, { 3, 41, 7 }, { 0, 5, 44 } };
        var figure = Plots.ConfusionMatrix(counts, "Confusion");
        var png = look.Save(figure, "confusion_matrix", "Confusion", "50", "41", "44", "7", "predicted", "true", "count");
        // The largest count is the darkest cell and sits at the top-left: true 0, predicted 0.
        var p = figure.Plot.GetPixel(new Coordinates(-0.3, 2.3));
        var c = png.GetPixel((int)p.X, (int)p.Y);
        Assert.True(c.Red < 30 && c.Blue > 90, $"cell (0, 0) should be deep blue, is {c}");
        var q = figure.Plot.GetPixel(new Coordinates(2.3, 2.3)); // true 0, predicted 2: count 0, the palest
        Assert.True(png.GetPixel((int)q.X, (int)q.Y).Red > 230);
        Assert.Throws<ArgumentException>(() => Plots.ConfusionMatrix(new int[2, 3]));
    }

    [Fact]
    public void TrainingHistory_DrawsLossAndMetricPanelsSideBySide()
    {
        using var look = new Look();
        var history = new History();
        for (int e = 0; e < 12; e++)
            history.Add(e, new Dictionary<string, double> { ["loss"] = 2.0 / (e + 1), ["val_loss"] = 2.2 / (e + 1), ["accuracy"] = 0.5 + e / 30.0 });
        var figure = Plots.TrainingHistory(history, "Training run");
        var png = look.Save(figure, "history", "Training run", "epoch", "loss", "val_loss", "accuracy");
        Assert.Equal((1, 2), (figure.Rows, figure.Columns));
        // Both halves carry curves: each has pixels in its series colours.
        bool HasColour(int left, int right, Color want)
        {
            for (int y = 0; y < png.Height; y++)
                for (int x = left; x < right; x++)
                {
                    var c = png.GetPixel(x, y);
                    if (Math.Abs(c.Red - want.R) + Math.Abs(c.Green - want.G) + Math.Abs(c.Blue - want.B) < 12) return true;
                }
            return false;
        }
        Assert.True(HasColour(0, png.Width / 2, Style.Class(0)));
        Assert.True(HasColour(png.Width / 2, png.Width, Style.Class(0)));
        Assert.Throws<ArgumentException>(() => Plots.TrainingHistory(new History()));
    }

    [Fact]
    public void GroupedBars_OnALogAxis_LabelDecadesAndValues()
    {
        using var look = new Look();
        var figure = Plots.GroupedBars(["mlp", "cnn"], [new Series("GenLab cpu", [1200, 35]), new Series("PyTorch cpu", [900, double.NaN])],
            "Throughput", "steps/s (log scale)", logScale: true, width: 800);
        look.Save(figure, "bars_log", "Throughput", "mlp", "cnn", "1200", "35", "900", "10\u00b2", "10\u00b3", "GenLab cpu", "PyTorch cpu");
        // On the log axis, 1200 is drawn one decade and a half (log10 1200/35) higher than 35, measured in pixels.
        float y1200 = figure.Plot.GetPixel(new Coordinates(0, Math.Log10(1200))).Y, y35 = figure.Plot.GetPixel(new Coordinates(0, Math.Log10(35))).Y;
        float decade = figure.Plot.GetPixel(new Coordinates(0, 1)).Y - figure.Plot.GetPixel(new Coordinates(0, 2)).Y;
        Assert.Equal(Math.Log10(1200.0 / 35), (y35 - y1200) / decade, 3);
        Assert.Throws<ArgumentException>(() => Plots.GroupedBars(["a"], [new Series("s", [1, 2])], "t", "y"));
    }

    [Fact]
    public void TheLegend_GoesToTheCornerTheDataLeaveFree()
    {
        using var look = new Look();
        // Curves that climb to the upper right above a flat baseline: only the upper-left corner is free.
        var rising = Plots.Lines([0, 0.1, 0.2, 0.3, 0.4, 0.5],
            [new Series("SGD", [0, 0.2, 0.7, 0.95, 1, 1]), new Series("FGSM", [0, 0.1, 0.5, 0.7, 0.8, 0.85]), new Series("chance", [0.1, 0.1, 0.1, 0.1, 0.1, 0.1])],
            "Rising", "budget", "success", yLimits: (0, 1.02));
        Assert.True(LegendX(look, rising, "rising", "SGD") < rising.Width / 2.0);
        // Falling curves leave the upper right free, the default.
        var falling = Plots.LossCurves([new Series("loss", [2, 1, 0.5, 0.3, 0.2, 0.15])], "Falling");
        Assert.True(LegendX(look, falling, "falling", "loss") > falling.Width / 2.0);
    }

    /// <summary>Where the legend entry <paramref name="entry"/> starts, from the SVG's text positions.</summary>
    private static double LegendX(Look look, Figure figure, string name, string entry)
    {
        look.Save(figure, name, entry);
        var svg = System.Xml.Linq.XDocument.Load(Path.Combine(look.Folder, name + ".svg"));
        var text = svg.Descendants().First(e => e.Name.LocalName == "text" && e.Value.Trim() == entry);
        // Skia writes each text as transform="translate(left top)" with glyph offsets in x="0, 7.6, ...".
        static double First(string? list) => list is null ? 0
            : double.Parse(list.Split([' ', ',', '(', ')'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        string? transform = text.Attribute("transform")?.Value;
        return First(transform?.Replace("translate", "")) + First(text.Attribute("x")?.Value);
    }

    [Fact]
    public void Lines_AndLossCurves_AndFit_AndLangevinFrames_Draw()
    {
        using var look = new Look();
        look.Save(Plots.Lines([0, 0.1, 0.2], [new Series("SGD", [0, 0.5, 0.9]), new Series("FGSM", [0, 0.2, 0.4])],
            "Budget", "L\u221e budget", "success rate", yLimits: (0, 1.02)), "lines", "Budget", "L\u221e budget", "SGD", "FGSM");
        look.Save(Plots.LossCurves([new Series("L_D", [1.3, 1.1, 1.0]), new Series("L_G", [0.7, 0.9, 1.2])], "GAN losses"), "loss_curves", "GAN losses", "L_D");
        var x = Enumerable.Range(0, 50).Select(i => -3f + 6f * i / 49).ToArray();
        look.Save(Plots.Fit(x, [.. x.Select(MathF.Sin)], x, [.. x.Select(v => MathF.Sin(v) * 0.9f)], "Fit"), "fit", "Fit", "data", "model");
        var frame = Plots.LangevinFrame(Cluster(50, (-1, 1), (1, -2)), Cluster(50, (0, 0)), 3, 10);
        look.Save(frame, "langevin", "Langevin step 3 / 10", "samples");
        // Fixed limits, so that frames line up in an animation.
        Assert.Equal((-3, 3, -4, 4), (frame.Plot.Axes.GetLimits().Left, frame.Plot.Axes.GetLimits().Right, frame.Plot.Axes.GetLimits().Bottom, frame.Plot.Axes.GetLimits().Top));
        Assert.Throws<ArgumentException>(() => Plots.Lines([0], [new Series("s", [1, 2])], "t", "x", "y"));
        Assert.Throws<ArgumentException>(() => Plots.LangevinFrame([1, 2, 3], [1, 2], 1));
    }

    [Fact]
    public void DigitProbabilities_AndAdversarialPairs_DrawEveryPanel()
    {
        using var look = new Look();
        var digit = Enumerable.Range(0, 64).Select(i => (i % 8) / 7f).ToArray();
        var p = new float[] { 0.05f, 0.05f, 0.6f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.03f, 0.02f };
        var figure = Plots.DigitProbabilities([digit, digit], [p, p], [2, 7], "Held out");
        var png = look.Save(figure, "digit_probabilities", "Held out", "label 2", "label 7", "predicted 2 (p = 0.60)", "probability", "class");
        // Every row's digit is there (not cleared by the bar charts drawn after it): ink in the left column of each row.
        int rowHeight = (png.Height - 30) / 2;
        for (int r = 0; r < 2; r++) Assert.True(Bitmaps.Ink(png, 0, 30 + r * rowHeight, png.Width / 4, 30 + (r + 1) * rowHeight) > 2000, $"row {r} has no digit");

        var adv = digit.Select((v, i) => v + (i % 3 == 0 ? 0.2f : -0.1f)).ToArray();
        var pairs = Plots.AdversarialPairs([digit], [adv], [3], [5], "Pairs");
        var pairsPng = look.Save(pairs, "adversarial_pairs", "Pairs", "original (model: 3)", "adversarial (model: 5)", "perturbation");
        Assert.True(Bitmaps.Ink(pairsPng, 0, 40, pairsPng.Width / 4, pairsPng.Height) > 2000);
        Assert.Throws<ArgumentException>(() => Plots.AdversarialPairs([digit], [digit[..16]], [1], [1]));
    }

    [Fact]
    public void Samples_TileTheImagesAsInk_PixelExact()
    {
        using var look = new Look();
        var images = Enumerable.Range(0, 6).Select(k => Enumerable.Range(0, 16).Select(i => i == k ? 1f : k / 10f).ToArray()).ToList();
        var grid = Pictures.Tile(images, 3, scale: 2, gap: 1);
        Assert.Equal((1 + 3 * 9, 1 + 2 * 9), (grid.Width, grid.Height));
        // Written out independently: tile k at column k % 3, row k / 3; pixel (px, py) of the 4x4 image; gap grey 200.
        for (int y = 0; y < grid.Height; y++)
            for (int x = 0; x < grid.Width; x++)
            {
                int tx = (x - 1) / 9, ty = (y - 1) / 9, ix = (x - 1) % 9, iy = (y - 1) % 9;
                byte want = x == 0 || y == 0 || ix == 8 || iy == 8 ? (byte)200
                    : (byte)Math.Round(255 * (1 - images[ty * 3 + tx][(iy / 2) * 4 + ix / 2]));
                Assert.Equal(want, grid.GetPixel(x, y).Red);
            }
        var figure = Plots.Samples(images, 3, "Samples");
        var png = look.Save(figure, "samples", "Samples");
        Assert.True(Bitmaps.Ink(png, 0, 0, png.Width, 30) > 50, "no title");
        Assert.Throws<ArgumentException>(() => Pictures.Tile([new float[16], new float[9]], 2));
        Assert.Throws<ArgumentException>(() => Pictures.Side(15));
    }

    [Fact]
    public void Pdf_IsWritten()
    {
        using var tmp = new TempDirectory();
        var path = tmp.File("a.pdf");
        Plots.LossCurves([new Series("loss", [3, 2, 1])], "Loss").SavePdf(path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("%PDF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Contains("DejaVu", System.Text.Encoding.Latin1.GetString(bytes));
    }

    [Fact]
    public void Save_ReplacesFilesAtomically_LeavingNoTemporaryFiles()
    {
        using var tmp = new TempDirectory();
        var figure = Plots.LossCurves([new Series("loss", [3, 2, 1])], "Loss");
        figure.Save(tmp.File("loss.png"));
        figure.Save(tmp.File("loss.svg"));
        Assert.Equal(["loss.png", "loss.svg"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void LabCore_CarriesNoImaging()
    {
        var core = typeof(Lab.Core.Tensor).Assembly;
        Assert.DoesNotContain(core.GetTypes(), t => t.Namespace?.Contains("Imaging", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(core.GetReferencedAssemblies(), a => a.Name!.StartsWith("SkiaSharp", StringComparison.Ordinal) || a.Name.StartsWith("ScottPlot", StringComparison.Ordinal));
    }
}
