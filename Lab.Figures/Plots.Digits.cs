using System.Globalization;
using ScottPlot;

namespace Lab.Figures;

// Images: digits with class probabilities, grids of samples, adversarial pairs, a confusion matrix.
public static partial class Plots
{
    /// <summary>
    /// Digits, one per row, each beside the bar chart of its class probabilities; the predicted (largest) class is
    /// highlighted and named in the chart's title, the true label (when given) in the digit's title.
    /// </summary>
    public static Figure DigitProbabilities(IReadOnlyList<float[]> digits, IReadOnlyList<float[]> probabilities,
        IReadOnlyList<int>? trueLabels = null, string? title = null, int width = 640, int rowHeight = 210)
    {
        ArgumentNullException.ThrowIfNull(digits);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (digits.Count == 0 || digits.Count != probabilities.Count || (trueLabels is not null && trueLabels.Count != digits.Count))
            throw new ArgumentException($"Need one probability vector (and label) per digit: {digits.Count} digits, {probabilities.Count} vectors.");
        int n = digits.Count;
        var figure = new Figure(width, rowHeight * n + (title is null ? 0 : 30), n, 2) { Title = title };
        figure.SetColumnWidths(1, 2.3f);
        for (int r = 0; r < n; r++)
        {
            figure.SetPicture(r, 0, Pictures.Digit(digits[r]), trueLabels is null ? null : $"label {trueLabels[r]}", framed: true);
            var p = probabilities[r];
            int best = 0;
            for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
            var plot = figure[r, 1];
            Labels(plot, $"predicted {best} (p = {p[best].ToString("F2", CultureInfo.InvariantCulture)})", r == n - 1 ? "class" : null, "probability");
            var bars = plot.Add.Bars(p.Select(v => (double)v).ToArray());
            for (int c = 0; c < bars.Bars.Count; c++)
            {
                bars.Bars[c].FillColor = c == best ? Style.Class(1) : Style.Class(0);
                bars.Bars[c].LineWidth = 0;
            }
            plot.Axes.Bottom.TickGenerator = Style.Ticks(Enumerable.Range(0, p.Length).Select(c => (double)c));
            plot.Axes.Left.TickGenerator = Style.Ticks([0, 0.5, 1], v => v.ToString("0.0", CultureInfo.InvariantCulture));
            plot.Axes.SetLimits(-0.6, p.Length - 0.4, 0, 1.02);
            plot.Grid.XAxisStyle.IsVisible = false;
        }
        return figure;
    }

    /// <summary>
    /// An N x M grid of samples without axes, ink dark. The tiles are enlarged by a whole factor so that the grid is
    /// about <paramref name="targetSide"/> pixels wide, with a 1-pixel light grey gap; the figure is sized to fit it.
    /// </summary>
    public static Figure Samples(IReadOnlyList<float[]> images, int columns = 10, string? title = null, int targetSide = 560)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Count, 1);
        int side = Pictures.Side(images[0].Length);
        int scale = Math.Max(1, (targetSide - columns - 1) / (columns * side));
        var grid = Pictures.Tile(images, columns, scale, gap: 1);
        var figure = new Figure(grid.Width + 24, grid.Height + 24 + (title is null ? 0 : 24));
        figure.SetPicture(0, 0, grid, title);
        return figure;
    }

    /// <summary>
    /// Adversarial examples, one per row: the original and the perturbed image, each titled with the model's label for
    /// it, and the perturbation (adversarial - original) on a diverging colormap with limits symmetric about zero and a
    /// colour bar.
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
            throw new ArgumentException($"Need as many adversarial images and labels as originals ({n}).");
        var figure = new Figure(width, rowHeight * n + (title is null ? 0 : 30), n, 3) { Title = title };
        figure.SetColumnWidths(1, 1, 1.45f);
        for (int r = 0; r < n; r++)
        {
            var (x, adv) = (originals[r], adversarials[r]);
            if (x.Length != adv.Length) throw new ArgumentException($"Row {r}: original has {x.Length} pixels, adversarial {adv.Length}.");
            figure.SetPicture(r, 0, Pictures.Digit(x), $"original (model: {originalLabels[r]})", framed: true);
            figure.SetPicture(r, 1, Pictures.Digit(adv), $"adversarial (model: {adversarialLabels[r]})", framed: true);

            var delta = new double[x.Length];
            double extent = 1e-6;
            for (int i = 0; i < x.Length; i++)
            {
                delta[i] = adv[i] - x[i];
                extent = Math.Max(extent, Math.Abs(delta[i]));
            }
            var plot = figure[r, 2];
            Labels(plot, "perturbation", null, null);
            int side = Pictures.Side(x.Length);
            var heat = plot.Add.Heatmap(Square(delta));
            heat.Rectangle = new CoordinateRect(-0.5, side - 0.5, -0.5, side - 0.5);
            heat.Colormap = Colormap.RedBlue;
            heat.ManualRange = new ScottPlot.Range(-extent, extent);
            var bar = Style.ColorBar(plot, heat);
            // Three ticks inside the bar's ends (ScottPlot would put the outer ones on the ends, half cut off).
            double tick = NiceBelow(extent * 0.9);
            bar.Axis.TickGenerator = Style.Ticks([-tick, 0, tick], v => Compact(v, 2));
            NoTicks(plot);
            plot.HideGrid();
            plot.Axes.SetLimits(-0.5, side - 0.5, -0.5, side - 0.5);
            figure.SetSquareData(r, 2, 8, 78, 8, 34);
        }
        return figure;
    }

    /// <summary>A confusion matrix (rows = true class, top to bottom; columns = predicted) as a heat map with the counts
    /// written in the cells.</summary>
    public static Figure ConfusionMatrix(int[,] counts, string title = "Confusion matrix", IReadOnlyList<string>? classNames = null,
        int width = 560, int height = 480)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int k = counts.GetLength(0);
        if (k == 0 || counts.GetLength(1) != k || (classNames is not null && classNames.Count != k))
            throw new ArgumentException("A confusion matrix is square, with one name per class when names are given.");
        var values = new double[k, k];
        double max = 1;
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
            {
                if (counts[r, c] < 0) throw new ArgumentException($"Count [{r}, {c}] is negative ({counts[r, c]}).", nameof(counts));
                values[r, c] = counts[r, c];
                max = Math.Max(max, counts[r, c]);
            }
        var figure = new Figure(width, height);
        var plot = figure.Plot;
        Labels(plot, title, "predicted", "true");
        // Cell (r, c) is centred at x = c, y = k - 1 - r: the heat map draws row 0 at the top, like matplotlib's imshow.
        var heat = plot.Add.Heatmap(values);
        heat.Colormap = Colormap.Blues;
        heat.ManualRange = new ScottPlot.Range(0, max);
        heat.Rectangle = new CoordinateRect(-0.5, k - 0.5, -0.5, k - 0.5);
        float size = Math.Clamp(160f / k, 8, 13);
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
            {
                bool dark = Colormap.Luminance(Colormap.Blues.Map(counts[r, c], 0, max)) < 0.5;
                var text = plot.Add.Text(I(counts[r, c]), c, k - 1 - r);
                text.LabelFontSize = size;
                text.LabelFontColor = dark ? Colors.White : Style.Text;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        string Name(int i) => classNames?[i] ?? I(i);
        plot.Axes.Bottom.TickGenerator = Style.Ticks(Enumerable.Range(0, k).Select(i => (double)i), p => Name((int)Math.Round(p)));
        plot.Axes.Left.TickGenerator = Style.Ticks(Enumerable.Range(0, k).Select(i => (double)i), p => Name(k - 1 - (int)Math.Round(p)));
        Style.ColorBar(plot, heat, "count");
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.HideGrid();
        figure.SetSquareData(0, 0, 56, 96, 48, 36);
        return figure;
    }

    /// <summary>The largest 1, 2, 2.5 or 5 times a power of ten not above <paramref name="v"/>.</summary>
    private static double NiceBelow(double v)
    {
        double decade = Math.Pow(10, Math.Floor(Math.Log10(v)));
        return new[] { 5, 2.5, 2, 1 }.Select(m => m * decade).First(t => t <= v * (1 + 1e-9));
    }

    /// <summary>A frame in the spine colour with no ticks or tick labels (an image, not a chart).</summary>
    private static void NoTicks(Plot plot)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
    }

    private static double[,] Square(double[] pixels)
    {
        int side = Pictures.Side(pixels.Length);
        var square = new double[side, side];
        for (int i = 0; i < pixels.Length; i++) square[i / side, i % side] = pixels[i];
        return square;
    }
}
