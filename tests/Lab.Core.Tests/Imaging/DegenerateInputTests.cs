using System.Xml.Linq;
using Lab.Core.Imaging;

namespace Lab.Core.Tests.Imaging;

/// <summary>Data that real runs produce on a bad day: diverged samples, empty sets, constant curves, zeros on a
/// log axis. Figures must still come out, never throw.</summary>
public class DegenerateInputTests
{
    public static TheoryData<string> Cases() => ["nan-samples", "empty-scatter", "single-point", "constant-curve",
        "log-with-zeros", "all-nan-bars", "zero-confusion", "blank-digit", "nan-curve", "one-class"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders(string name)
    {
        var figure = Make(name);
        XDocument.Parse(figure.ToSvg());
        if (Cairo.IsAvailable)
        {
            var raster = figure.Render(out string? problem);
            Assert.Null(problem);
            Assert.Equal((figure.Width, figure.Height), (raster!.Width, raster.Height));
        }
    }

    private static Figure Make(string name) => name switch
    {
        "nan-samples" => Plots.LangevinFrame([0, 0, 1, 1], [float.NaN, 1, float.PositiveInfinity, 2, 1e30f, -1e30f, 0.5f, 0.5f], 50, 50),
        "empty-scatter" => Plots.ClassScatter([], []),
        "single-point" => Plots.ClassScatter([1, 2], [3]),
        "constant-curve" => Plots.LossCurves([new Series("loss", [0.5, 0.5, 0.5])]),
        "log-with-zeros" => Plots.GroupedBars(["a", "b"], [new("CPU", [0, 10]), new("GPU", [1, -1])], "t", "ms", logScale: true),
        "all-nan-bars" => Plots.GroupedBars(["a"], [new("CPU", [double.NaN])], "t", "ms"),
        "zero-confusion" => Plots.ConfusionMatrix(new int[3, 3]),
        "blank-digit" => Plots.Digit(new float[64], "blank"),
        "nan-curve" => Plots.Lines([0, 1, 2, 3], [new Series("s", [1, double.NaN, 3, 2])], "t", "x", "y"),
        _ => Plots.DecisionRegions(new int[5, 5], (0, 1), (0, 1), [0.5f, 0.5f], [0]),
    };

    [Fact]
    public void BadArguments_AreRejectedWithClearMessages()
    {
        Assert.Contains("pairs", Assert.Throws<ArgumentException>(() => Plots.ClassScatter([1, 2, 3], [0])).Message);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => Plots.ClassScatter([1, 2, 3, 4], [0])).Message);
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => Plots.Digit(new float[10])).Message);
        Assert.Throws<ArgumentException>(() => Plots.ClassScatter([1, 2], [-1]));
        Assert.Throws<ArgumentException>(() => Plots.GroupedBars(["a", "b"], [new("CPU", [1.0])], "t", "y"));
        Assert.Throws<ArgumentException>(() => Plots.DecisionRegions(new int[2, 2], (1, 1), (0, 1), [], []));
        Assert.Throws<ArgumentException>(() => new Figure(rows: 2).SetRowHeights(1));
    }
}
