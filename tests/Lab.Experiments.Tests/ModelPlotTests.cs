using System.Xml.Linq;
using Lab.Core.Nn;
using Lab.Experiments.Figures;
using SkiaSharp;
using Xunit;
using static Lab.Core.Nn.Functional;

namespace Lab.Experiments.Tests;

/// <summary>plot_model's picture: boxes in rows by depth, none overlapping, edges between them; PNG and SVG decoded back.</summary>
public class ModelPlotTests
{
    /// <summary>Inception-like: four branches of different depths from one input, joined (edges that skip rows).</summary>
    private static Model Branches()
    {
        var x = Input([4], name: "x");
        Linear L(string name) => new(4, 4) { Name = name };
        var a = L("a").Call(x);
        var b = L("b2").Call(L("b1").Call(x));
        var c = L("c3").Call(L("c2").Call(L("c1").Call(x)));
        return new Model(x, new Concatenate { Name = "join" }.Call(a, b, c, x), name: "branches");
    }

    [Fact]
    public void BoxesSitInRowsByDepthWithoutOverlapsAndEdgesAvoidTheBoxes()
    {
        var graph = Branches().Graph();
        var (boxes, waypoints, width, height) = ModelPlot.Layout(graph);
        var byName = boxes.ToDictionary(b => b.Layer.Name, b => b.Rect);
        // Longest path from the input: x, then a b1 c1, then b2 c2, then c3, then join.
        Assert.True(byName["x"].Top < byName["a"].Top);
        Assert.Equal(byName["a"].Top, byName["b1"].Top);
        Assert.Equal(byName["b2"].Top, byName["c2"].Top);
        Assert.True(byName["c3"].Bottom < byName["join"].Top);
        foreach (var r in boxes.Select(b => b.Rect))
            Assert.True(r.Left >= 0 && r.Top >= 0 && r.Right <= width && r.Bottom <= height, $"{r} outside {width}x{height}");
        for (int i = 0; i < boxes.Length; i++)
            for (int j = i + 1; j < boxes.Length; j++)
                Assert.False(boxes[i].Rect.IntersectsWith(boxes[j].Rect), $"{boxes[i].Layer.Name} overlaps {boxes[j].Layer.Name}");
        // x -> join crosses three rows: it passes each of them beside the boxes there.
        var skip = waypoints[(0, graph.Layers.Count - 1)];
        Assert.Equal(6, skip.Length);
        foreach (var p in skip)
            Assert.DoesNotContain(boxes, b => b.Rect.Left < p.X && p.X < b.Rect.Right && b.Rect.Top <= p.Y && p.Y <= b.Rect.Bottom);
        Assert.Empty(waypoints[(0, 1)]);
    }

    [Fact]
    public void PngAndSvgAreWrittenAndDecodeBack()
    {
        using var folder = new TempFolder();
        var graph = Branches().Graph();
        var (_, _, width, height) = ModelPlot.Layout(graph);
        ModelPlot.Save(graph, folder["m.png"]);
        ModelPlot.Save(graph, folder["m.svg"]);

        using var bitmap = SKBitmap.Decode(folder["m.png"]);
        Assert.Equal((int)Math.Ceiling(width * 2), bitmap.Width);
        Assert.Equal((int)Math.Ceiling(height * 2), bitmap.Height);
        Assert.Equal(SKColors.White, bitmap.GetPixel(2, 2));   // the margin
        int dark = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
                if (bitmap.GetPixel(x, y).Red < 100) dark++;
        Assert.True(dark > 200, $"only {dark} dark pixels: no boxes or text drawn");

        var svg = XDocument.Load(folder["m.svg"]).Root!;
        Assert.Equal("svg", svg.Name.LocalName);
        var texts = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        Assert.Contains(texts, t => t.Contains("join: Concatenate"));
        Assert.Contains(texts, t => t.Contains("(None, 16)"));
        Assert.Contains("should end in .png or .svg", Assert.Throws<ArgumentException>(() => ModelPlot.Save(graph, folder["m.gif"])).Message);
        Assert.False(File.Exists(folder["m.gif"]));
    }
}
