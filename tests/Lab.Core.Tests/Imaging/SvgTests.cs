using System.Globalization;
using System.Xml.Linq;
using Lab.Core.Imaging;

namespace Lab.Core.Tests.Imaging;

public class SvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Scatter_IsWellFormedSvgWithOneCirclePerPointAndTheTexts()
    {
        var figure = Plots.ClassScatter([0, 0, 1, 1, 2, 0.5f, 3, 2], [0, 1, 1, 2], "Toy <data> & \"more\"");
        var doc = XDocument.Parse(figure.ToSvg());
        var root = doc.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Equal("640", root.Attribute("width")!.Value);
        Assert.Equal("480", root.Attribute("height")!.Value);

        var circles = root.Descendants(Svg + "circle").ToList();
        Assert.Equal(4 + 3, circles.Count); // four points and three legend markers
        var texts = root.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("Toy <data> & \"more\"", texts); // escaped in the file, intact once parsed
        Assert.Contains("class 0", texts);
        Assert.Contains("class 2", texts);
        Assert.Contains("x\u2081", texts);
        Assert.Single(root.Descendants(Svg + "clipPath"));
    }

    [Fact]
    public void Escape_HandlesMarkupCharactersAndDropsForbiddenControls()
    {
        Assert.Equal("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;", SvgCanvas.Escape("a <b> & \"c\" 'd'"));
        Assert.Equal("xy", SvgCanvas.Escape("x\u0001y"));
        XDocument.Parse(new Figure { Axes = { Title = "bad \u0002 char" } }.ToSvg());
    }

    [Fact]
    public void Heatmap_EmbedsAPngThatDecodesToTheMatrixColours()
    {
        var figure = Plots.ConfusionMatrix(new[,] { { 5, 0 }, { 1, 4 } });
        var root = XDocument.Parse(figure.ToSvg()).Root!;
        XNamespace xlink = "http://www.w3.org/1999/xlink";
        var images = root.Descendants(Svg + "image").ToList();
        Assert.Equal(2, images.Count); // the matrix and the colour bar's gradient
        string href = images[0].Attribute(xlink + "href")!.Value;
        Assert.StartsWith("data:image/png;base64,", href);
        var png = PngReader.Decode(Convert.FromBase64String(href["data:image/png;base64,".Length..]));
        // The 2x2 matrix is embedded enlarged by a whole factor so that every renderer keeps the cells sharp.
        Assert.Equal(png.Width, png.Height);
        Assert.True(png.Width >= 100 && png.Width % 2 == 0, $"embedded {png.Width} pixels wide");
        int cell = png.Width / 2;
        Color At(int x, int y) => new(png.Pixels[(y * png.Width + x) * 4], png.Pixels[(y * png.Width + x) * 4 + 1],
            png.Pixels[(y * png.Width + x) * 4 + 2], png.Pixels[(y * png.Width + x) * 4 + 3]);
        Assert.Equal(Colormap.Blues.Map(5, 0, 5), At(0, 0));
        Assert.Equal(Colormap.Blues.Map(5, 0, 5), At(cell - 1, cell - 1));
        Assert.Equal(Colormap.Blues.Map(0, 0, 5), At(cell, 0));
        Assert.Equal(Colormap.Blues.Map(1, 0, 5), At(0, cell));
        Assert.Equal(Colormap.Blues.Map(4, 0, 5), At(png.Width - 1, png.Width - 1));
        var texts = root.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("predicted", texts);
        Assert.Contains("5", texts);
        Assert.Contains("4", texts);
    }

    [Fact]
    public void EveryGalleryFigure_KeepsItsTextInsideTheFigure()
    {
        foreach (var (name, figure) in Gallery.All())
        {
            var root = XDocument.Parse(figure.ToSvg()).Root!;
            foreach (var text in root.Descendants(Svg + "text"))
            {
                double size = D(text, "font-size");
                double width = TextMetrics.Width(text.Value, size);
                string anchor = text.Attribute("text-anchor")!.Value;
                if (text.Attribute("transform") is { } transform)
                {
                    // Vertical label: translate(x,y) rotate(-90); its length runs along y.
                    var xy = transform.Value["translate(".Length..transform.Value.IndexOf(')')].Split(',');
                    double x = double.Parse(xy[0], CultureInfo.InvariantCulture), y = double.Parse(xy[1], CultureInfo.InvariantCulture);
                    Assert.True(x >= 0 && x + size <= figure.Width, $"{name}: vertical '{text.Value}' at x {x}");
                    Assert.True(y - width / 2 >= 0 && y + width / 2 <= figure.Height, $"{name}: vertical '{text.Value}' runs off at y {y}");
                    continue;
                }
                double left = D(text, "x") - anchor switch { "middle" => width / 2, "end" => width, _ => 0 };
                double baseline = D(text, "y");
                Assert.True(left >= 0 && left + width <= figure.Width + 0.5, $"{name}: '{text.Value}' spans x {left:F1}..{left + width:F1} of {figure.Width}");
                Assert.True(baseline - 0.75 * size >= 0 && baseline + 0.25 * size <= figure.Height + 0.5, $"{name}: '{text.Value}' baseline {baseline:F1} of {figure.Height}");
            }
        }
    }

    private static double D(XElement e, string attribute) => double.Parse(e.Attribute(attribute)!.Value, CultureInfo.InvariantCulture);
}
