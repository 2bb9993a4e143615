using System.Globalization;

namespace Lab.Core.Imaging;

// Images: a digit, digits with class probabilities, grids of samples, adversarial pairs, a confusion matrix.
public static partial class Plots
{
    /// <summary>A digit (8x8 or 28x28, row-major) as a grey heat map, dark = high (gray_r), with pixel-index ticks
    /// and a colour bar; intensities over [0, max(1, largest value)].</summary>
    public static Figure Digit(float[] pixels, string? title = null, int width = 460, int height = 420)
    {
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        double max = Math.Max(1, pixels.Max());
        DigitImage(axes, pixels, 0, max);
        int side = SampleGrid.Side(pixels.Length);
        int step = side <= 10 ? 1 : 4;
        var ticks = Enumerable.Range(0, side).Where(i => i % step == 0).Select(i => new Tick(i, I(i))).ToArray();
        (axes.XTicks, axes.YTicks) = (ticks, ticks);
        axes.ColorBar = ColorBar.Continuous(Colormap.GreyReversed, 0, max);
        return figure;
    }

    /// <summary>
    /// Digits, one per row, each beside the bar chart of its class probabilities; the predicted (largest) class
    /// is highlighted and named in the chart's title, the true label (when given) in the digit's title.
    /// </summary>
    public static Figure DigitProbabilities(IReadOnlyList<float[]> digits, IReadOnlyList<float[]> probabilities,
        IReadOnlyList<int>? trueLabels = null, string? title = null, int width = 640, int rowHeight = 210)
    {
        ArgumentNullException.ThrowIfNull(digits);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (digits.Count == 0 || digits.Count != probabilities.Count || (trueLabels is not null && trueLabels.Count != digits.Count))
        {
            throw new ArgumentException($"Need one probability vector (and label) per digit: {digits.Count} digits, {probabilities.Count} vectors.");
        }
        int n = digits.Count;
        var figure = new Figure(width, rowHeight * n + (title is null ? 0 : 30), n, 2) { Title = title };
        figure.SetColumnWidths(1, 2.3);
        for (int r = 0; r < n; r++)
        {
            var image = figure[r, 0];
            image.Hidden = image.Framed = true;
            image.Title = trueLabels is null ? null : $"label {trueLabels[r]}";
            DigitImage(image, digits[r], 0, 1);

            var p = probabilities[r];
            int best = 0;
            for (int c = 1; c < p.Length; c++)
            {
                if (p[c] > p[best])
                {
                    best = c;
                }
            }
            var bars = figure[r, 1];
            bars.Title = $"predicted {best} (p = {p[best].ToString("F2", CultureInfo.InvariantCulture)})";
            var layer = bars.Bars([], [p.Select(v => (double)v).ToArray()]);
            layer.BarColors = [.. Enumerable.Range(0, p.Length).Select(c => c == best ? Palette.Class(1) : Palette.Class(0))];
            bars.YLimits = (0, 1.02);
            bars.XGrid = false;
            bars.XTicks = [.. Enumerable.Range(0, p.Length).Select(c => new Tick(c, I(c)))];
            bars.YTicks = Ticks.Linear(0, 1, 3);
            bars.YLabel = "probability";
            bars.XLabel = r == n - 1 ? "class" : null;
        }
        return figure;
    }

    /// <summary>
    /// An N x M grid of samples without axes, ink dark. The tiles are enlarged by a whole factor so that, drawn
    /// 1:1, the grid is about <paramref name="targetSide"/> pixels wide, with a 1-pixel light grey gap; the
    /// figure is sized to fit it.
    /// </summary>
    public static Figure Samples(IReadOnlyList<float[]> images, int columns = 10, string? title = null, int targetSide = 560)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Count, 1);
        int side = SampleGrid.Side(images[0].Length);
        int scale = Math.Max(1, (targetSide - columns - 1) / (columns * side));
        var raster = SampleGrid.Tile(images, columns, scale, gap: 1);
        // Hidden axes inside a figure of pad 4 use pad 6 around the plot: 10 pixels a side, plus the title.
        int titleSpace = title is null ? 0 : (int)Math.Ceiling(Style.TitleSize * 1.5);
        var figure = new Figure(raster.Width + 20, raster.Height + 20 + titleSpace);
        var axes = figure.Axes;
        axes.Hidden = true;
        axes.Title = title;
        axes.Image(raster, 0, raster.Width, 0, raster.Height);
        return figure;
    }

    /// <summary>
    /// Adversarial examples, one per row: the original and the perturbed image, each titled with the model's
    /// label for it, and the perturbation (adversarial - original) on a diverging colormap with limits
    /// symmetric about zero and a colour bar.
    /// </summary>
    public static Figure AdversarialPairs(IReadOnlyList<float[]> originals, IReadOnlyList<float[]> adversarials,
        IReadOnlyList<int> originalLabels, IReadOnlyList<int> adversarialLabels, string? title = null, int width = 720, int rowHeight = 200)
    {
        ArgumentNullException.ThrowIfNull(originals);
        ArgumentNullException.ThrowIfNull(adversarials);
        ArgumentNullException.ThrowIfNull(originalLabels);
        ArgumentNullException.ThrowIfNull(adversarialLabels);
        int n = originals.Count;
        if (n == 0 || adversarials.Count != n || originalLabels.Count != n || adversarialLabels.Count != n)
        {
            throw new ArgumentException($"Need as many adversarial images and labels as originals ({n}).");
        }
        var figure = new Figure(width, rowHeight * n + (title is null ? 0 : 30), n, 3) { Title = title };
        figure.SetColumnWidths(1, 1, 1.45);
        for (int r = 0; r < n; r++)
        {
            var (x, adv) = (originals[r], adversarials[r]);
            if (x.Length != adv.Length)
            {
                throw new ArgumentException($"Row {r}: original has {x.Length} pixels, adversarial {adv.Length}.");
            }
            for (int c = 0; c < 3; c++)
            {
                figure[r, c].Hidden = figure[r, c].Framed = true;
            }
            figure[r, 0].Title = $"original (model: {originalLabels[r]})";
            DigitImage(figure[r, 0], x, 0, 1);
            figure[r, 1].Title = $"adversarial (model: {adversarialLabels[r]})";
            DigitImage(figure[r, 1], adv, 0, 1);

            var delta = new double[x.Length];
            double extent = 1e-6;
            for (int i = 0; i < x.Length; i++)
            {
                delta[i] = adv[i] - x[i];
                extent = Math.Max(extent, Math.Abs(delta[i]));
            }
            var perturbation = figure[r, 2];
            perturbation.Title = "perturbation";
            perturbation.EqualAspect = true;
            perturbation.Heatmap(Square(delta), Colormap.RedBlue, -extent, extent);
            perturbation.ColorBar = ColorBar.Continuous(Colormap.RedBlue, -extent, extent);
        }
        return figure;
    }

    /// <summary>A confusion matrix (rows = true class, columns = predicted) as a heat map with the counts
    /// written in the cells.</summary>
    public static Figure ConfusionMatrix(int[,] counts, string title = "Confusion matrix", IReadOnlyList<string>? classNames = null,
        int width = 560, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int k = counts.GetLength(0);
        if (k == 0 || counts.GetLength(1) != k || (classNames is not null && classNames.Count != k))
        {
            throw new ArgumentException("A confusion matrix is square, with one name per class when names are given.");
        }
        var values = new double[k, k];
        double max = 1;
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
            {
                values[r, c] = counts[r, c];
                max = Math.Max(max, counts[r, c]);
            }
        }
        var figure = new Figure(width, height);
        var axes = figure.Axes;
        axes.Title = title;
        axes.XLabel = "predicted";
        axes.YLabel = "true";
        axes.Grid = false;
        axes.EqualAspect = true;
        axes.Heatmap(values, Colormap.Blues, 0, max);
        double size = Math.Clamp(160.0 / k, 8, 13);
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
            {
                bool dark = Colormap.Blues.Map(counts[r, c], 0, max).Luminance < 0.5;
                axes.Text(c, r, I(counts[r, c]), dark ? Color.White : Palette.Text, size);
            }
        }
        var ticks = Enumerable.Range(0, k).Select(i => new Tick(i, classNames?[i] ?? I(i))).ToArray();
        (axes.XTicks, axes.YTicks) = (ticks, ticks);
        axes.ColorBar = ColorBar.Continuous(Colormap.Blues, 0, max, "count");
        return figure;
    }

    /// <summary>A square digit as a matrix heat map in gray_r on <paramref name="axes"/>.</summary>
    private static void DigitImage(Axes axes, float[] pixels, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        axes.Grid = false;
        axes.EqualAspect = true;
        axes.Heatmap(Square(pixels.Select(v => (double)v).ToArray()), Colormap.GreyReversed, min, max);
    }

    private static double[,] Square(double[] pixels)
    {
        int side = SampleGrid.Side(pixels.Length);
        var square = new double[side, side];
        for (int i = 0; i < pixels.Length; i++)
        {
            square[i / side, i % side] = pixels[i];
        }
        return square;
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
