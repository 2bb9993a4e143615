using System.Text;
using Lab.Core.Training;
using Lab.Figures;

namespace Lab.Experiments.Experiments;

/// <summary>
/// The attention figures: training curves, accuracy per format, the attention weights of one held-out date in every
/// format, and a table of translations with failures (translations.md; every prediction in predictions.csv).
/// </summary>
internal static class AttentionFigures
{
    /// <summary>
    /// Tick labels for characters the bundled DejaVu Sans cannot draw (it has no CJK glyphs): the Japanese format's
    /// 年, 月 and 日 are shown by their readings, and a space as an open box.
    /// </summary>
    private static readonly Dictionary<string, string> Drawable = new() { ["年"] = "nen", ["月"] = "gatsu", ["日"] = "nichi", [" "] = "␣", [DateData.Start] = "start" };

    public static string Label(string character) => Drawable.GetValueOrDefault(character, character);

    public static void Draw(ExperimentContext ctx, History history, IReadOnlyList<DateExample> test, Decoded final, Decoded? early)
    {
        ctx.SaveFigure(Plots.TrainingHistory(history, "Attention translator: loss and per-character accuracy (teacher forcing)"), "history");

        var formats = final.Score.PerFormat.Select(p => p.Format).ToList();
        var series = new List<Series>();
        if (early is not null)
        {
            series.Add(new Series("exact match after epoch 1", [.. early.Score.PerFormat.Select(p => p.Score.ExactMatch)]));
            series.Add(new Series("per character after epoch 1", [.. early.Score.PerFormat.Select(p => p.Score.CharAccuracy)]));
        }
        series.Add(new Series("exact match", [.. final.Score.PerFormat.Select(p => p.Score.ExactMatch)]));
        series.Add(new Series("per character", [.. final.Score.PerFormat.Select(p => p.Score.CharAccuracy)]));
        var bars = Plots.GroupedBars(formats, series, $"Held-out dates, greedy decoding: accuracy per input format (exact match {final.Score.ExactMatch:0.000} overall)",
            "accuracy", valueLabels: false, width: 960, height: 440);
        bars.Plot.Axes.SetLimitsY(0, 1.35);   // room above the bars for the legend
        ctx.SaveFigure(bars, "accuracy_per_format");

        // Weights run from 0 (white) to 1 (dark blue); the figure title says what the axes are.
        const string Caption = "attention of each output character (y) over the source (x); nen, gatsu, nichi = the Japanese year, month, day marks";
        ctx.SaveFigure(Plots.AttentionMaps(Maps(test, final), "Held-out date, " + Caption), "attention_maps");
        if (early is not null)
            ctx.SaveFigure(Plots.AttentionMaps(Maps(test, early), "After epoch 1: " + Caption), "attention_maps_epoch1");

        ctx.WriteText("translations.md", Table(test, final, early));
        var csv = new StringBuilder("format,source,target,prediction,correct\n");
        for (int i = 0; i < test.Count; i++)
        {
            var p = final.Predictions[i];
            csv.Append($"{test[i].Format.Name},{Quote(test[i].Source)},{test[i].Target},{Quote(p)},{(p == test[i].Target ? 1 : 0)}\n");
        }
        ctx.WriteText("predictions.csv", csv.ToString());
    }

    /// <summary>
    /// One held-out date (the first with a day after the 12th, so that day and month digits differ) in every format:
    /// the weights of each decoded character over the source's characters (its padding left out).
    /// </summary>
    private static List<AttentionMap> Maps(IReadOnlyList<DateExample> test, Decoded decoded)
    {
        var (predictions, attention) = (decoded.Predictions, decoded.Attention);
        var date = test.Select(e => e.Date).FirstOrDefault(d => d.Day > 12 && d.Month >= 10, test[0].Date);
        int S = DateData.MaxSourceLength, T = DateData.TargetLength;
        var maps = new List<AttentionMap>();
        for (int i = 0; i < test.Count; i++)
        {
            if (test[i].Date != date) continue;
            var source = test[i].Source.EnumerateRunes().Select(r => Label(r.ToString())).ToList();
            var output = predictions[i].EnumerateRunes().Select(r => Label(r.ToString())).ToList();
            var weights = new double[T, source.Count];
            for (int t = 0; t < T; t++)
                for (int s = 0; s < source.Count; s++) weights[t, s] = attention[(i * T + t) * S + s];
            bool ok = predictions[i] == test[i].Target;
            maps.Add(new AttentionMap($"{test[i].Format.Name}: {(ok ? predictions[i] : $"{predictions[i]} (want {test[i].Target})")}", source, output, weights));
        }
        return maps;
    }

    /// <summary>
    /// Markdown: per format, how many held-out dates failed, and two examples: failures first (at the end, then after
    /// the first epoch), else correct ones, so that a reader sees what goes wrong where and what training fixed.
    /// </summary>
    private static string Table(IReadOnlyList<DateExample> test, Decoded final, Decoded? early)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Example translations of held-out dates by greedy decoding, failures first (in bold); every final prediction is in predictions.csv.");
        sb.AppendLine();
        sb.AppendLine(early is null ? "| format (wrong) | source | target | output |" : "| format (wrong after epoch 1, at the end) | source | target | after epoch 1 | at the end |");
        sb.AppendLine(early is null ? "| --- | --- | --- | --- |" : "| --- | --- | --- | --- | --- |");
        string Output(string p, string target) => p == target ? p : $"**{Cell(p)}**";
        foreach (var format in DateData.Formats)
        {
            var rows = Enumerable.Range(0, test.Count).Where(i => test[i].Format == format).ToList();
            if (rows.Count == 0) continue;
            bool Wrong(Decoded? d, int i) => d is not null && d.Predictions[i] != test[i].Target;
            var shown = rows.Where(i => Wrong(final, i)).Concat(rows.Where(i => Wrong(early, i))).Concat(rows).Distinct().Take(2);
            string counts = early is null ? $"{rows.Count(i => Wrong(final, i))} of {rows.Count}"
                : $"{rows.Count(i => Wrong(early, i))}, {rows.Count(i => Wrong(final, i))} of {rows.Count}";
            foreach (int i in shown)
                sb.AppendLine($"| {format.Name} ({counts}) | {Cell(test[i].Source)} | {test[i].Target} | " +
                              (early is null ? "" : $"{Output(early.Predictions[i], test[i].Target)} | ") + $"{Output(final.Predictions[i], test[i].Target)} |");
        }
        return sb.ToString();
    }

    private static string Cell(string text) => text.Length == 0 ? "(empty)" : text.Replace("|", "\\|");

    private static string Quote(string text) => text.Contains(',') || text.Contains('"') ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
