using Lab.Figures;

namespace Lab.Experiments;

/// <summary>Figures of several sample grids side by side (or stacked), each with its own title.</summary>
public static class DigitPanels
{
    /// <summary>One grid of images per panel, <paramref name="panelColumns"/> panels per row, tiles at a whole scale.</summary>
    public static Figure Grids(IReadOnlyList<(string Title, IReadOnlyList<float[]> Images)> panels, int columns, int panelColumns,
        string? title = null, int scale = 6)
    {
        int rows = (panels.Count + panelColumns - 1) / panelColumns;
        var grids = panels.Select(p => Pictures.Tile(p.Images, columns, scale, gap: 1)).ToArray();
        int w = grids.Max(g => g.Width), h = grids.Max(g => g.Height);
        var figure = new Figure(panelColumns * (w + 24) + 8, rows * (h + 40) + (title is null ? 8 : 40), rows, panelColumns) { Title = title };
        for (int i = 0; i < rows * panelColumns; i++)
        {
            if (i < panels.Count) figure.SetPicture(i / panelColumns, i % panelColumns, grids[i], panels[i].Title);
            else figure.SetEmpty(i / panelColumns, i % panelColumns);
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
