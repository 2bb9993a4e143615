namespace Lab.Core.Imaging;

/// <summary>
/// Advance widths of DejaVu Sans (the font both writers ask for), so that layout - margins for tick labels,
/// legend boxes, centred titles - comes out the same in SVG, which cannot measure text, and in PNG.
/// Widths are in thousandths of an em, measured once from the font with Cairo.
/// </summary>
internal static class TextMetrics
{
    /// <summary>Ascent and descent of DejaVu Sans in em; the cap height is 0.729 em.</summary>
    public const double Ascent = 0.929, Descent = 0.236, CapHeight = 0.729;

    // ' ' (32) to '~' (126).
    private static readonly short[] Regular =
    [
        318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636,
        636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295,
        295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838,
        500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521,
        392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
    ];

    private static readonly short[] Bold =
    [
        348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696,
        696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372,
        372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838,
        500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595,
        478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
    ];

    /// <summary>Width in pixels of <paramref name="text"/> set at <paramref name="size"/> pixels.</summary>
    public static double Width(string text, double size, bool bold = false)
    {
        var table = bold ? Bold : Regular;
        double units = 0;
        foreach (char c in text)
        {
            units += c switch
            {
                >= ' ' and <= '~' => table[c - ' '],
                '\u2212' or '\u00D7' or '\u2264' or '\u2265' => 838, // minus, times, <=, >=
                '\u00B9' or '\u00B2' or '\u00B3' or (>= '\u2070' and <= '\u2079') => bold ? 438 : 401, // superscripts
                '\u207B' => 528,
                '\u2013' => 500,
                '\u2014' => 1000,
                '\u00B7' => bold ? 380 : 318,
                _ => 640, // anything else: a typical lower-case letter
            };
        }
        return units * size / 1000.0;
    }

    /// <summary>Line height used to stack text: 1.2 em.</summary>
    public static double LineHeight(double size) => 1.2 * size;
}
