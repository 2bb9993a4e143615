using ScottPlot;
using ScottPlot.TickGenerators;

namespace Lab.Figures;

/// <summary>
/// GenLab's house style, defined once: seaborn's "deep" palette for classes and series, soft black text, light grey
/// frame and grid, and the font sizes of titles, labels, ticks and legends. <see cref="Apply"/> gives a ScottPlot
/// plot all of it.
/// </summary>
public static class Style
{
    /// <summary>seaborn's default "deep" palette, one colour per class or series, cycled beyond ten.</summary>
    public static IReadOnlyList<Color> Deep { get; } =
    [
        Color.FromHex("#4C72B0"), Color.FromHex("#DD8452"), Color.FromHex("#55A868"), Color.FromHex("#C44E52"),
        Color.FromHex("#8172B3"), Color.FromHex("#937860"), Color.FromHex("#DA8BC3"), Color.FromHex("#8C8C8C"),
        Color.FromHex("#CCB974"), Color.FromHex("#64B5CD"),
    ];

    /// <summary>The colour of class or series <paramref name="index"/> (cycles through <see cref="Deep"/>).</summary>
    public static Color Class(int index) => Deep[((index % Deep.Count) + Deep.Count) % Deep.Count];

    /// <summary>Text, tick labels and titles: a soft black (seaborn's ".15").</summary>
    public static readonly Color Text = Grey(38);
    /// <summary>The axes frame.</summary>
    public static readonly Color Spine = Grey(191);
    /// <summary>Grid lines, light enough to stay behind the data.</summary>
    public static readonly Color Grid = Grey(229);
    /// <summary>The gap between tiles of a sample grid.</summary>
    public static readonly Color Gap = Grey(200);
    public static readonly Color Background = Colors.White;

    public const float TickSize = 12;
    public const float LabelSize = 13;
    public const float TitleSize = 14.5f;
    public const float SuptitleSize = 16.5f;
    public const float LegendSize = 12;

    public static Color Grey(byte level) => new(level, level, level);

    /// <summary>A new plot in the house style.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        Apply(plot);
        return plot;
    }

    /// <summary>Fonts, colours, frame, ticks, grid and legend of the house style.</summary>
    public static void Apply(Plot plot)
    {
        HouseFont.Register();
        plot.Font.Set(HouseFont.Name);
        plot.FigureBackground.Color = Background;
        plot.DataBackground.Color = Background;
        plot.Axes.Title.Label.FontSize = TitleSize;
        plot.Axes.Title.Label.Bold = false;
        plot.Axes.Title.Label.ForeColor = Text;
        foreach (var axis in plot.Axes.GetAxes())
        {
            axis.Label.FontSize = LabelSize;
            axis.Label.Bold = false;
            axis.Label.ForeColor = Text;
            axis.TickLabelStyle.FontSize = TickSize;
            axis.TickLabelStyle.ForeColor = Text;
            axis.FrameLineStyle.Color = Spine;
            axis.FrameLineStyle.Width = 1;
            axis.MajorTickStyle.Color = Spine;
            axis.MajorTickStyle.Length = 4;
            axis.MinorTickStyle.Length = 0;
        }
        // ScottPlot packs ticks about twice as densely as matplotlib: at least 45 pixels apart reads like it.
        plot.Axes.Bottom.TickGenerator = Automatic();
        plot.Axes.Left.TickGenerator = Automatic();
        plot.Grid.MajorLineColor = Grid;
        plot.Grid.MajorLineWidth = 1;
        plot.Grid.MinorLineWidth = 0;
        plot.Legend.FontSize = LegendSize;
        plot.Legend.FontColor = Text;
        plot.Legend.OutlineColor = Spine;
        plot.Legend.BackgroundColor = Colors.White.WithAlpha(0.85);
        plot.Legend.ShadowColor = Colors.Transparent;
    }

    /// <summary>A colour bar beside <paramref name="source"/> in the house style, labelled when <paramref name="label"/> is given.</summary>
    public static ScottPlot.Panels.ColorBar ColorBar(Plot plot, IHasColorAxis source, string? label = null)
    {
        var bar = plot.Add.ColorBar(source);
        bar.Width = 18;
        if (label is not null) bar.Label = label;
        bar.LabelStyle.FontSize = LabelSize;
        bar.LabelStyle.Bold = false;
        bar.LabelStyle.ForeColor = Text;
        bar.Axis.TickLabelStyle.FontSize = TickSize;
        bar.Axis.TickLabelStyle.ForeColor = Text;
        bar.Axis.FrameLineStyle.Color = Spine;
        bar.Axis.MajorTickStyle.Color = Spine;
        bar.Axis.MinorTickStyle.Length = 0;
        bar.Axis.TickGenerator = Automatic();
        return bar;
    }

    /// <summary>Automatic ticks at the house density (whole numbers only when <paramref name="integers"/>).</summary>
    public static NumericAutomatic Automatic(bool integers = false) =>
        new() { MinimumTickSpacing = 45, IntegerTicksOnly = integers, LabelFormatter = v => Minus(LabelFormatters.Numeric(v)) };

    /// <summary>Negative numbers with the true minus sign (U+2212), as typeset figures have it, not a hyphen.</summary>
    public static string Minus(string label) => label.StartsWith('-') ? "\u2212" + label[1..] : label;

    /// <summary>Fixed ticks at <paramref name="positions"/> labelled as given (or as whole numbers).</summary>
    public static NumericManual Ticks(IEnumerable<double> positions, Func<double, string>? label = null)
    {
        var ticks = new NumericManual();
        foreach (double p in positions) ticks.AddMajor(p, label?.Invoke(p) ?? Whole(p));
        return ticks;
    }

    internal static string Whole(double v) => Minus(v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
}
