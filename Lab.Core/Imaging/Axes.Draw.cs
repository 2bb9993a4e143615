namespace Lab.Core.Imaging;

// Layout and drawing: limits from the layers, margins from the tick labels, then grid, layers, frame, labels,
// legend and colour bar, in that order so data sits above the grid and the legend above the data.
public sealed partial class Axes
{
    private const double ColorBarGap = 14, ColorBarWidth = 14;

    internal void Draw(ICanvas canvas, double cellX, double cellY, double cellW, double cellH, double scale)
    {
        double pad = Style.Pad * scale, tickSize = Style.TickSize * scale, labelSize = Style.LabelSize * scale;
        double titleSize = Style.TitleSize * scale, gap = Style.TickGap * scale;
        var (xMin, xMax, yMin, yMax) = Limits();

        double top = pad + (Title is null ? 0 : titleSize * 1.5);
        double left = pad, right = pad, bottom = pad;
        double plotW = cellW - 70 * scale, plotH = cellH - 60 * scale;
        IReadOnlyList<Tick> xTicks = [], yTicks = [];
        string[][] xLabels = [];
        double legendOutside = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            xTicks = XTicks ?? Ticks.Linear(xMin, xMax, Math.Clamp((int)(plotW / (75 * scale)), 3, 10));
            yTicks = YTicks ?? (LogY ? Ticks.Log(yMin, yMax) : Ticks.Linear(yMin, yMax, Math.Clamp((int)(plotH / (48 * scale)), 3, 10)));
            xLabels = WrapTickLabels(xTicks, plotW / Math.Max(1, xMax - xMin), tickSize);
            left = right = bottom = pad;
            if (!Hidden)
            {
                double widest = yTicks.Count == 0 ? 0 : yTicks.Max(t => TextMetrics.Width(t.Label, tickSize));
                left += widest + gap + (YLabel is null ? 0 : labelSize * 1.3);
                int lines = xLabels.Length == 0 ? 1 : xLabels.Max(l => l.Length);
                bottom += gap + lines * TextMetrics.LineHeight(tickSize) + (XLabel is null ? 0 : labelSize * 1.4);
                // Labels of the first and last x ticks are centred on the frame's edges and stick out by half.
                if (xTicks.Count > 0)
                {
                    left = Math.Max(left, pad + HalfOverhang(xTicks[0], xLabels[0], xMin, xMax, tickSize));
                    right = Math.Max(right, pad + HalfOverhang(xTicks[^1], xLabels[^1], xMin, xMax, tickSize));
                }
            }
            if (ColorBar is not null)
            {
                right += ColorBarSpace(ColorBar, plotH, scale);
            }
            if (Legend == LegendLocation.OutsideRight && LegendEntries().Count > 0)
            {
                legendOutside = LegendSize(LegendEntries(), scale).Width + 10 * scale;
                right += legendOutside;
            }
            plotW = Math.Max(10, cellW - left - right);
            plotH = Math.Max(10, cellH - top - bottom);
        }

        double plotX = cellX + left, plotY = cellY + top;
        if (EqualAspect)
        {
            double perUnit = Math.Min(plotW / (xMax - xMin), plotH / (yMax - yMin));
            double w = perUnit * (xMax - xMin), h = perUnit * (yMax - yMin);
            plotX += (plotW - w) / 2;
            plotY += (plotH - h) / 2;
            (plotW, plotH) = (w, h);
        }

        // Whole pixels: frames and grid lines stay crisp and a raster can be shown exactly 1:1.
        (plotX, plotY, plotW, plotH) = (Math.Round(plotX), Math.Round(plotY), Math.Max(1, Math.Round(plotW)), Math.Max(1, Math.Round(plotH)));
        var t = new AxesTransform
        {
            Left = plotX, Top = plotY, Width = plotW, Height = plotH,
            XMin = xMin, XMax = xMax, YMin = yMin, YMax = yMax, LogY = LogY, InvertY = InvertY,
        };

        if (!Hidden)
        {
            DrawGrid(canvas, t, xTicks, yTicks);
        }
        canvas.PushClip(t.Left, t.Top, t.Width, t.Height);
        foreach (var layer in _layers)
        {
            layer.Draw(canvas, t);
        }
        canvas.PopClip();

        if (!Hidden || Framed)
        {
            canvas.StrokeRect(CanvasExtensions.Crisp(t.Left), CanvasExtensions.Crisp(t.Top), Math.Round(t.Width), Math.Round(t.Height), Palette.Spine, 1);
        }
        if (!Hidden)
        {
            DrawTickLabels(canvas, t, xTicks, xLabels, yTicks, tickSize, gap);
            if (XLabel is not null)
            {
                int lines = xLabels.Length == 0 ? 1 : xLabels.Max(l => l.Length);
                double y = t.Bottom + gap + lines * TextMetrics.LineHeight(tickSize) + 3 * scale;
                canvas.Text(XLabel, t.Left + t.Width / 2, y, labelSize, Palette.Text, HAlign.Center, VAlign.Top);
            }
            if (YLabel is not null)
            {
                canvas.Text(YLabel, cellX + pad, t.Top + t.Height / 2, labelSize, Palette.Text, HAlign.Center, VAlign.Top, vertical: true);
            }
        }
        if (Title is not null)
        {
            canvas.Text(Title, t.Left + t.Width / 2, t.Top - titleSize * 0.55, titleSize, Palette.Text, HAlign.Center, VAlign.Baseline);
        }
        if (ColorBar is not null)
        {
            DrawColorBar(canvas, ColorBar, t, scale);
        }
        DrawLegend(canvas, t, scale, legendOutside > 0 ? t.Right + (ColorBar is null ? 0 : ColorBarSpace(ColorBar, plotH, scale)) + 10 * scale : null);
    }

    /// <summary>Limits in data units: fixed ones as given, otherwise the union of the layers' extents padded
    /// by 5% (in log space on a log axis) but never past a sticky edge such as an image border or a bar base.</summary>
    internal (double XMin, double XMax, double YMin, double YMax) Limits()
    {
        var probe = new AxesTransform { LogY = LogY };
        var bounds = _layers.Select(l => l.Bounds(probe)).OfType<DataBounds>().ToList();
        (double, double) Fit(Func<DataBounds, double> lo, Func<DataBounds, double> hi, Func<DataBounds, IReadOnlyList<double>> sticky, bool log)
        {
            if (bounds.Count == 0)
            {
                return log ? (1, 10) : (0, 1);
            }
            double min = bounds.Min(lo), max = bounds.Max(hi);
            var edges = bounds.SelectMany(sticky).ToList();
            if (log)
            {
                (min, max) = (Math.Log10(min), Math.Log10(max));
                edges = [.. edges.Where(e => e > 0).Select(Math.Log10)];
            }
            if (max - min < 1e-12)
            {
                double half = Math.Max(Math.Abs(min) * 0.1, log ? 0.5 : 0.5);
                (min, max) = (min - half, max + half);
            }
            double margin = 0.05 * (max - min);
            double paddedMin = min - margin, paddedMax = max + margin;
            foreach (double e in edges)
            {
                if (e <= min + 1e-12 && e > paddedMin)
                {
                    paddedMin = e;
                }
                if (e >= max - 1e-12 && e < paddedMax)
                {
                    paddedMax = e;
                }
            }
            return log ? (Math.Pow(10, paddedMin), Math.Pow(10, paddedMax)) : (paddedMin, paddedMax);
        }

        var (x0, x1) = XLimits ?? Fit(b => b.XMin, b => b.XMax, b => b.StickyX, false);
        var (y0, y1) = YLimits ?? Fit(b => b.YMin, b => b.YMax, b => b.StickyY, LogY);
        if (x1 <= x0)
        {
            throw new InvalidOperationException($"x limits ({x0}, {x1}) are empty.");
        }
        if (y1 <= y0 || (LogY && y0 <= 0))
        {
            throw new InvalidOperationException($"y limits ({y0}, {y1}) are empty{(LogY ? " or not positive on a log axis" : "")}.");
        }
        return (x0, x1, y0, y1);
    }

    private static double HalfOverhang(Tick tick, string[] lines, double min, double max, double size)
    {
        double widest = lines.Length == 0 ? 0 : lines.Max(l => TextMetrics.Width(l, size));
        bool atEdge = Math.Abs(tick.Value - min) < 1e-9 * (max - min) + 1e-12 || Math.Abs(tick.Value - max) < 1e-9 * (max - min) + 1e-12;
        return atEdge ? widest / 2 : Math.Max(0, widest / 2 - 20);
    }

    /// <summary>Splits category labels at spaces onto several lines when they would run into each other.</summary>
    private static string[][] WrapTickLabels(IReadOnlyList<Tick> ticks, double pixelsPerUnit, double size)
    {
        double spacing = ticks.Count < 2 ? double.PositiveInfinity
            : Enumerable.Range(1, ticks.Count - 1).Min(i => Math.Abs(ticks[i].Value - ticks[i - 1].Value)) * pixelsPerUnit;
        var result = new string[ticks.Count][];
        for (int i = 0; i < ticks.Count; i++)
        {
            var lines = new List<string>();
            foreach (string paragraph in ticks[i].Label.Split('\n'))
            {
                string line = "";
                foreach (string word in paragraph.Split(' '))
                {
                    string candidate = line.Length == 0 ? word : line + " " + word;
                    if (line.Length > 0 && TextMetrics.Width(candidate, size) > 0.92 * spacing)
                    {
                        lines.Add(line);
                        line = word;
                    }
                    else
                    {
                        line = candidate;
                    }
                }
                lines.Add(line);
            }
            result[i] = [.. lines];
        }
        return result;
    }

    private void DrawGrid(ICanvas canvas, AxesTransform t, IReadOnlyList<Tick> xTicks, IReadOnlyList<Tick> yTicks)
    {
        if (XGrid)
        {
            foreach (var tick in xTicks)
            {
                double x = CanvasExtensions.Crisp(t.X(tick.Value));
                if (x > t.Left + 1 && x < t.Right - 1)
                {
                    canvas.Line(x, t.Top, x, t.Bottom, Palette.Grid, 1);
                }
            }
        }
        if (YGrid)
        {
            foreach (var tick in yTicks)
            {
                double y = CanvasExtensions.Crisp(t.Y(tick.Value));
                if (y > t.Top + 1 && y < t.Bottom - 1)
                {
                    canvas.Line(t.Left, y, t.Right, y, Palette.Grid, 1);
                }
            }
        }
    }

    private static void DrawTickLabels(ICanvas canvas, AxesTransform t, IReadOnlyList<Tick> xTicks, string[][] xLabels,
        IReadOnlyList<Tick> yTicks, double size, double gap)
    {
        for (int i = 0; i < xTicks.Count; i++)
        {
            double x = t.X(xTicks[i].Value);
            if (x < t.Left - 0.5 || x > t.Right + 0.5)
            {
                continue;
            }
            for (int line = 0; line < xLabels[i].Length; line++)
            {
                canvas.Text(xLabels[i][line], x, t.Bottom + gap + line * TextMetrics.LineHeight(size), size, Palette.Text, HAlign.Center, VAlign.Top);
            }
        }
        foreach (var tick in yTicks)
        {
            double y = t.Y(tick.Value);
            if (y >= t.Top - 0.5 && y <= t.Bottom + 0.5)
            {
                canvas.Text(tick.Label, t.Left - gap, y, size, Palette.Text, HAlign.Right, VAlign.Middle);
            }
        }
    }
}
