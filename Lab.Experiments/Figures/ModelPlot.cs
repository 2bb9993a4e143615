using Lab.Core.IO;
using Lab.Core.Nn;
using SkiaSharp;

namespace Lab.Experiments.Figures;

/// <summary>
/// Keras's plot_model drawn with SkiaSharp: a box per layer ("name: Type" over its input and output shapes), arrows from
/// each layer to the layers that read it, top to bottom. Layers sit in rows by longest path from the inputs; within a
/// row they are ordered by the mean position of their neighbours (a few sweeps down and up), which removes most
/// crossings of small graphs. Graphviz is not needed (the graph's <see cref="ModelGraph.ToDot"/> is there for it).
/// </summary>
public static class ModelPlot
{
    private const float Pad = 8, LineHeight = 17, RowGap = 46, ColumnGap = 26, Margin = 20, HeaderSize = 13, BodySize = 12;
    private const string FontDir = "/usr/share/fonts/truetype/dejavu/";

    /// <summary>A laid-out box: its layer, its rectangle.</summary>
    public sealed record Box(GraphLayer Layer, SKRect Rect);

    /// <summary>
    /// Boxes, the points each edge passes through on the rows it crosses (so that it runs between boxes, not over them),
    /// and the canvas size (public for tests: rows, order, no overlaps).
    /// </summary>
    public static (Box[] Boxes, Dictionary<(int From, int To), SKPoint[]> Waypoints, float Width, float Height) Layout(ModelGraph graph)
    {
        using var fonts = new Fonts();
        int n = graph.Layers.Count;
        // Longest-path rows: the graph's layers come in an order where every edge points forward.
        var row = new List<int>(new int[n]);
        foreach (var (from, to) in graph.Edges) row[to] = Math.Max(row[to], row[from] + 1);
        // An edge that skips rows gets a narrow stand-in on every row it crosses, ordered with the boxes (Sugiyama's dummies).
        var widths = graph.Layers.Select(l => Lines(l).Select((t, k) => (k == 0 ? fonts.Header : fonts.Body).MeasureText(t)).Max() + 2 * Pad).ToList();
        var links = new List<(int From, int To)>();
        var chains = new Dictionary<(int, int), List<int>>();
        foreach (var edge in graph.Edges)
        {
            var chain = new List<int>();
            int previous = edge.From;
            for (int r = row[edge.From] + 1; r < row[edge.To]; r++)
            {
                row.Add(r);
                widths.Add(DummyWidth);
                chain.Add(row.Count - 1);
                links.Add((previous, row.Count - 1));
                previous = row.Count - 1;
            }
            links.Add((previous, edge.To));
            chains[edge] = chain;
        }
        int total = row.Count, rows = n == 0 ? 0 : row.Max() + 1;
        var members = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, total).Where(i => row[i] == r).ToList()).ToArray();
        var preds = Enumerable.Range(0, total).Select(i => links.Where(e => e.To == i).Select(e => e.From).ToArray()).ToArray();
        var succs = Enumerable.Range(0, total).Select(i => links.Where(e => e.From == i).Select(e => e.To).ToArray()).ToArray();
        var pos = new double[total];
        foreach (var m in members) for (int k = 0; k < m.Count; k++) pos[m[k]] = k - (m.Count - 1) / 2.0;
        void Reorder(List<int> m, int[][] neighbours)
        {
            var keyed = m.Select((i, k) => (i, key: neighbours[i].Length == 0 ? pos[i] : neighbours[i].Average(j => pos[j]), k)).ToList();
            m.Clear();
            m.AddRange(keyed.OrderBy(t => t.key).ThenBy(t => t.k).Select(t => t.i));
            for (int k = 0; k < m.Count; k++) pos[m[k]] = k - (m.Count - 1) / 2.0;
        }
        for (int sweep = 0; sweep < 6; sweep++)
        {
            for (int r = 1; r < rows; r++) Reorder(members[r], preds);
            for (int r = rows - 2; r >= 0; r--) Reorder(members[r], succs);
        }

        float boxHeight = 3 * LineHeight + 2 * Pad + 4;
        var rowWidths = members.Select(m => m.Sum(i => widths[i]) + ColumnGap * Math.Max(0, m.Count - 1)).ToArray();
        float width = (rowWidths.Length == 0 ? 0 : rowWidths.Max()) + 2 * Margin;
        float height = rows * boxHeight + Math.Max(0, rows - 1) * RowGap + 2 * Margin;
        var rects = new SKRect[total];
        for (int r = 0; r < rows; r++)
        {
            float x = (width - rowWidths[r]) / 2, y = Margin + r * (boxHeight + RowGap);
            foreach (var i in members[r])
            {
                rects[i] = new SKRect(x, y, x + widths[i], y + boxHeight);
                x += widths[i] + ColumnGap;
            }
        }
        var boxes = Enumerable.Range(0, n).Select(i => new Box(graph.Layers[i], rects[i])).ToArray();
        var waypoints = chains.ToDictionary(c => c.Key, c => c.Value.SelectMany(d => new[] { new SKPoint(rects[d].MidX, rects[d].Top), new SKPoint(rects[d].MidX, rects[d].Bottom) }).ToArray());
        return (boxes, waypoints, width, height);
    }

    private const float DummyWidth = 14;

    private static string[] Lines(GraphLayer l) => [$"{l.Name}: {l.Type}", $"input:  {l.InputShape}", $"output: {l.OutputShape}"];

    /// <summary>Writes the picture as PNG (at twice the size, for sharp text) or SVG, by the file's extension, atomically.</summary>
    public static void Save(ModelGraph graph, string path)
    {
        var (boxes, waypoints, width, height) = Layout(graph);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".png":
                const float scale = 2;
                using (var surface = SKSurface.Create(new SKImageInfo((int)Math.Ceiling(width * scale), (int)Math.Ceiling(height * scale)))
                    ?? throw new InvalidOperationException($"ModelPlot: could not make a {width}x{height} drawing surface."))
                {
                    surface.Canvas.Scale(scale);
                    Draw(surface.Canvas, graph, boxes, waypoints);
                    using var image = surface.Snapshot();
                    using var png = image.Encode(SKEncodedImageFormat.Png, 100);
                    AtomicFile.Write(path, s => png.SaveTo(s));
                }
                break;
            case ".svg":
                using (var svg = Lab.Figures.Figure.InMemory(stream =>
                {
                    using var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), stream);
                    Draw(canvas, graph, boxes, waypoints);
                }))
                    AtomicFile.Write(path, svg.SaveTo);
                break;
            default:
                throw new ArgumentException($"ModelPlot: '{path}' should end in .png or .svg.");
        }
    }

    private static void Draw(SKCanvas canvas, ModelGraph graph, Box[] boxes, Dictionary<(int From, int To), SKPoint[]> waypoints)
    {
        using var fonts = new Fonts();
        canvas.Clear(SKColors.White);
        using var line = new SKPaint { Color = new SKColor(0x44, 0x44, 0x44), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.3f };
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var text = new SKPaint { Color = new SKColor(0x1a, 0x1a, 0x1a), IsAntialias = true };

        // Edges first, under the boxes; each box spreads its incoming and outgoing arrows along its edge by the other end's x.
        var outPorts = Ports(graph.Edges, boxes, e => e.From, e => waypoints[e] is [var first, ..] ? first.X : boxes[e.To].Rect.MidX);
        var inPorts = Ports(graph.Edges, boxes, e => e.To, e => waypoints[e] is [.., var last] ? last.X : boxes[e.From].Rect.MidX);
        foreach (var edge in graph.Edges)
        {
            var (a, b) = (boxes[edge.From].Rect, boxes[edge.To].Rect);
            var start = new SKPoint(outPorts[edge], a.Bottom);
            var end = new SKPoint(inPorts[edge], b.Top - 1);
            // Curves between rows, straight down through the rows the edge crosses.
            SKPoint[] points = [start, .. waypoints[edge], new SKPoint(end.X, end.Y - 7)];
            using var path = new SKPath();
            path.MoveTo(points[0]);
            for (int k = 0; k + 1 < points.Length; k += 2)
            {
                var (p, q) = (points[k], points[k + 1]);
                float bend = Math.Max(12, (q.Y - p.Y) / 2);
                path.CubicTo(p.X, p.Y + bend, q.X, q.Y - bend, q.X, q.Y);
                if (k + 2 < points.Length) path.LineTo(points[k + 2]);
            }
            canvas.DrawPath(path, line);
            using var head = new SKPath();
            head.MoveTo(end.X, end.Y);
            head.LineTo(end.X - 4.5f, end.Y - 9);
            head.LineTo(end.X + 4.5f, end.Y - 9);
            head.Close();
            fill.Color = line.Color;
            canvas.DrawPath(head, fill);
        }

        foreach (var box in boxes)
        {
            var r = box.Rect;
            bool input = box.Layer.Type == "InputLayer";
            fill.Color = SKColors.White;
            canvas.DrawRoundRect(r, 4, 4, fill);
            fill.Color = input ? new SKColor(0xdc, 0xef, 0xdc) : new SKColor(0xdb, 0xe8, 0xf7);
            var header = new SKRect(r.Left, r.Top, r.Right, r.Top + LineHeight + Pad + 2);
            canvas.Save();
            canvas.ClipRoundRect(new SKRoundRect(r, 4, 4), antialias: true);
            canvas.DrawRect(header, fill);
            canvas.Restore();
            canvas.DrawLine(r.Left, header.Bottom, r.Right, header.Bottom, line);
            canvas.DrawRoundRect(r, 4, 4, line);
            var lines = Lines(box.Layer);
            canvas.DrawText(lines[0], r.MidX, r.Top + Pad + HeaderSize - 1, SKTextAlign.Center, fonts.Header, text);
            canvas.DrawText(lines[1], r.Left + Pad, header.Bottom + Pad + BodySize - 2, SKTextAlign.Left, fonts.Body, text);
            canvas.DrawText(lines[2], r.Left + Pad, header.Bottom + Pad + BodySize - 2 + LineHeight, SKTextAlign.Left, fonts.Body, text);
        }
    }

    /// <summary>Where each edge meets a box: spread evenly along the box's width, ordered by the x of the edge's next point.</summary>
    private static Dictionary<(int From, int To), float> Ports(IReadOnlyList<(int From, int To)> edges, Box[] boxes,
        Func<(int From, int To), int> near, Func<(int From, int To), float> farX)
    {
        var ports = new Dictionary<(int, int), float>();
        foreach (var group in edges.GroupBy(near))
        {
            var r = boxes[group.Key].Rect;
            var sorted = group.OrderBy(farX).ToList();
            float span = Math.Min(r.Width * 0.6f, 28f * (sorted.Count - 1));
            for (int k = 0; k < sorted.Count; k++)
                ports[sorted[k]] = sorted.Count == 1 ? r.MidX : r.MidX - span / 2 + span * k / (sorted.Count - 1);
        }
        return ports;
    }

    /// <summary>DejaVu Sans from the system where it is installed (Skia's default typeface otherwise).</summary>
    private sealed class Fonts : IDisposable
    {
        private readonly SKTypeface _regular = Load("DejaVuSans.ttf"), _bold = Load("DejaVuSans-Bold.ttf");
        public SKFont Header { get; }
        public SKFont Body { get; }

        public Fonts()
        {
            Header = new SKFont(_bold, HeaderSize) { Subpixel = true };
            Body = new SKFont(_regular, BodySize) { Subpixel = true };
        }

        private static SKTypeface Load(string file) =>
            File.Exists(FontDir + file) ? SKTypeface.FromFile(FontDir + file) ?? SKTypeface.Default : SKTypeface.Default;

        public void Dispose()
        {
            Header.Dispose();
            Body.Dispose();
            _regular.Dispose();
            _bold.Dispose();
        }
    }
}
