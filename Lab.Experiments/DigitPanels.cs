using Lab.Core.Imaging;

namespace Lab.Experiments;

/// <summary>Figures of several sample grids side by side (or stacked), each with its own title.</summary>
public static class DigitPanels
{
    /// <summary>One grid of images per panel, <paramref name="panelColumns"/> panels per row, tiles at a whole scale.</summary>
    public static Figure Grids(IReadOnlyList<(string Title, IReadOnlyList<float[]> Images)> panels, int columns, int panelColumns,
        string? title = null, int scale = 6)
    {
        int rows = (panels.Count + panelColumns - 1) / panelColumns;
        var rasters = panels.Select(p => SampleGrid.Tile(p.Images, columns, scale, gap: 1)).ToArray();
        int w = rasters.Max(r => r.Width), h = rasters.Max(r => r.Height);
        var figure = new Figure(panelColumns * (w + 24) + 8, rows * (h + 40) + (title is null ? 8 : 40), rows, panelColumns) { Title = title };
        for (int i = 0; i < rows * panelColumns; i++)
        {
            var axes = figure[i / panelColumns, i % panelColumns];
            axes.Hidden = true;
            if (i >= panels.Count) continue;
            axes.Title = panels[i].Title;
            axes.EqualAspect = true;
            axes.Image(rasters[i], 0, rasters[i].Width, 0, rasters[i].Height);
        }
        return figure;
    }

    /// <summary>The first <paramref name="n"/> images of an N x 1 x side x side tensor (or flat rows) as arrays.</summary>
    public static List<float[]> Images(Lab.Core.Tensor images, int n)
    {
        int size = images.Numel / images.Shape[0];
        var data = images.ToArray();
        return Enumerable.Range(0, Math.Min(n, images.Shape[0])).Select(i => data.AsSpan(i * size, size).ToArray()).ToList();
    }

    public static List<float[]> Rows(float[] flat, int size) =>
        Enumerable.Range(0, flat.Length / size).Select(i => flat.AsSpan(i * size, size).ToArray()).ToList();
}
