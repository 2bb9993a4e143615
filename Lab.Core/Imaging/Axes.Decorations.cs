namespace Lab.Core.Imaging;

// Legend and colour bar.
public sealed partial class Axes
{
    internal List<LegendEntry> LegendEntries() => [.. _layers.SelectMany(l => l.Legend())];

    private static (double Width, double Height, double Row, double Swatch) LegendSize(List<LegendEntry> entries, double scale)
    {
        double size = Style.LegendSize * scale, row = size * 1.5, swatch = 24 * scale, pad = 7 * scale;
        double text = entries.Max(e => TextMetrics.Width(e.Label, size));
        return (pad + swatch + 6 * scale + text + pad, pad * 2 + entries.Count * row - (row - size) * 0.5, row, swatch);
    }

    private void DrawLegend(ICanvas canvas, AxesTransform t, double scale, double? outsideX)
    {
        var entries = LegendEntries();
        if (Legend == LegendLocation.None || entries.Count == 0)
        {
            return;
        }
        var (w, h, row, swatch) = LegendSize(entries, scale);
        double inset = 8 * scale, pad = 7 * scale, size = Style.LegendSize * scale;

        (double X, double Y) Corner(LegendLocation where) => where switch
        {
            LegendLocation.UpperLeft => (t.Left + inset, t.Top + inset),
            LegendLocation.LowerLeft => (t.Left + inset, t.Bottom - inset - h),
            LegendLocation.LowerRight => (t.Right - inset - w, t.Bottom - inset - h),
            _ => (t.Right - inset - w, t.Top + inset),
        };

        (double X, double Y) at;
        if (Legend == LegendLocation.OutsideRight && outsideX is double ox)
        {
            at = (ox, t.Top);
        }
        else if (Legend == LegendLocation.Best)
        {
            // matplotlib's "best": the candidate box covering the fewest data points, earlier candidates on ties.
            var points = _layers.SelectMany(l => l.Occupied(t)).ToList();
            at = Corner(LegendLocation.UpperRight);
            int fewest = int.MaxValue;
            foreach (var where in new[] { LegendLocation.UpperRight, LegendLocation.UpperLeft, LegendLocation.LowerLeft, LegendLocation.LowerRight })
            {
                var c = Corner(where);
                int covered = points.Count(p => p.X >= c.X - 4 && p.X <= c.X + w + 4 && p.Y >= c.Y - 4 && p.Y <= c.Y + h + 4);
                if (covered < fewest)
                {
                    (fewest, at) = (covered, c);
                }
            }
        }
        else
        {
            at = Corner(Legend);
        }

        canvas.FillRect(at.X, at.Y, w, h, Color.White.WithAlpha(0.85));
        canvas.StrokeRect(CanvasExtensions.Crisp(at.X), CanvasExtensions.Crisp(at.Y), Math.Round(w), Math.Round(h), Color.Grey(204), 1);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            double cy = at.Y + pad + i * row + size / 2;
            double sx = at.X + pad;
            if (e.Patch)
            {
                canvas.FillRect(sx + 3 * scale, cy - size * 0.4, swatch - 6 * scale, size * 0.8, e.Color);
            }
            else
            {
                if (e.Line)
                {
                    canvas.Line(sx, cy, sx + swatch, cy, e.Color, 2 * scale, e.Dashed);
                }
                if (e.Marker != Marker.None)
                {
                    canvas.Markers([sx + swatch / 2], [cy], e.Marker, 4.5 * scale, e.Color, Color.White, 0.8);
                }
            }
            canvas.Text(e.Label, sx + swatch + 6 * scale, cy, size, Palette.Text, HAlign.Left, VAlign.Middle);
        }
    }

    private static IReadOnlyList<Tick> ColorBarTicks(ColorBar bar, double height, double scale) =>
        bar.ClassLabels is { } labels
            ? [.. labels.Select((l, i) => new Tick(i + 0.5, l))]
            : Ticks.Linear(bar.Min, bar.Max, Math.Clamp((int)(height / (45 * scale)), 3, 8));

    private static double ColorBarSpace(ColorBar bar, double plotHeight, double scale)
    {
        double size = Style.TickSize * scale;
        var ticks = ColorBarTicks(bar, plotHeight, scale);
        double labels = ticks.Count == 0 ? 0 : ticks.Max(t => TextMetrics.Width(t.Label, size));
        return (ColorBarGap + ColorBarWidth) * scale + Style.TickGap * scale + labels + (bar.Label is null ? 0 : Style.LabelSize * scale * 1.6);
    }

    private static void DrawColorBar(ICanvas canvas, ColorBar bar, AxesTransform t, double scale)
    {
        double x = Math.Round(t.Right + ColorBarGap * scale), w = Math.Round(ColorBarWidth * scale);
        double y = Math.Round(t.Top), h = Math.Round(t.Height);
        double size = Style.TickSize * scale;
        var ticks = ColorBarTicks(bar, h, scale);
        double lo = bar.Min, hi = bar.Max;
        if (bar.ClassColors is { } colors)
        {
            for (int i = 0; i < colors.Count; i++)
            {
                double y0 = y + h - h * (i + 1) / colors.Count, y1 = y + h - h * i / colors.Count;
                canvas.FillRect(x, y0, w, y1 - y0, colors[i]);
            }
        }
        else if (bar.Map is { } map)
        {
            var gradient = new Raster(1, 256, PixelFormat.Rgba);
            for (int i = 0; i < 256; i++)
            {
                gradient[0, i] = map[1 - i / 255.0];
            }
            canvas.Image(gradient, x, y, w, h, smooth: true);
        }
        canvas.StrokeRect(x + 0.5, y + 0.5, w, h, Palette.Spine, 1);
        double widest = 0;
        foreach (var tick in ticks)
        {
            double ty = y + h - (tick.Value - lo) / (hi - lo) * h;
            if (ty < y - 0.5 || ty > y + h + 0.5)
            {
                continue;
            }
            canvas.Line(x + w, CanvasExtensions.Crisp(ty), x + w + 3 * scale, CanvasExtensions.Crisp(ty), Palette.Spine, 1);
            canvas.Text(tick.Label, x + w + Style.TickGap * scale, ty, size, Palette.Text, HAlign.Left, VAlign.Middle);
            widest = Math.Max(widest, TextMetrics.Width(tick.Label, size));
        }
        if (bar.Label is not null)
        {
            double lx = x + w + Style.TickGap * scale + widest + 6 * scale;
            canvas.Text(bar.Label, lx, y + h / 2, Style.LabelSize * scale, Palette.Text, HAlign.Center, VAlign.Top, vertical: true);
        }
    }
}
