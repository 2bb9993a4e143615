using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Lab.Core.Training;

/// <summary>
/// Keras's per-epoch progress line, e.g. <c>300/300 ━━━━━━━━━━━━━━━━━━━━ 2s 2ms/step - accuracy: 0.9942 - loss: 0.0422</c>.
/// On a terminal it redraws in place (at most every 100 ms); when output is redirected it prints one plain
/// line per epoch, so log files stay readable.
/// </summary>
public sealed class ProgressLine
{
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1000;
    private int _lastWidth;

    public ProgressLine(TextWriter output, int totalSteps, bool live)
    {
        _out = output;
        _total = totalSteps;
        _live = live;
    }

    /// <summary>True when the console is a terminal a line can be redrawn on.</summary>
    public static bool ConsoleIsLive => !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null;

    /// <summary>Whether an <see cref="Update"/> now would draw (live output, 100 ms since the last drawing).</summary>
    public bool WantsUpdate => _live && _clock.ElapsedMilliseconds - _lastDraw >= 100;

    public void Update(int step, IEnumerable<KeyValuePair<string, double>> logs)
    {
        if (!WantsUpdate) return;
        _lastDraw = _clock.ElapsedMilliseconds;
        var line = Format(step, _total, _clock.Elapsed, logs);
        _out.Write("\r" + line + new string(' ', Math.Max(0, _lastWidth - line.Length)));
        _lastWidth = line.Length;
        _out.Flush();
    }

    public void Finish(IEnumerable<KeyValuePair<string, double>> logs)
    {
        var line = Format(_total, _total, _clock.Elapsed, logs);
        if (_live) _out.WriteLine("\r" + line + new string(' ', Math.Max(0, _lastWidth - line.Length)));
        else _out.WriteLine(line);
        _out.Flush();
    }

    public static string Format(int step, int total, TimeSpan elapsed, IEnumerable<KeyValuePair<string, double>> logs)
    {
        const int width = 20;
        int done = total == 0 ? width : (int)Math.Round(width * (double)step / total);
        var sb = new StringBuilder();
        string digits = total.ToString(CultureInfo.InvariantCulture);
        sb.Append(step.ToString(CultureInfo.InvariantCulture).PadLeft(digits.Length)).Append('/').Append(digits).Append(' ');
        sb.Append('━', done).Append('─', width - done).Append(' ');
        sb.Append(Math.Round(elapsed.TotalSeconds).ToString(CultureInfo.InvariantCulture)).Append("s ");
        double perStep = step == 0 ? 0 : elapsed.TotalMilliseconds / step;
        sb.Append(perStep >= 1 ? $"{Math.Round(perStep).ToString(CultureInfo.InvariantCulture)}ms/step" : $"{Math.Round(perStep * 1000).ToString(CultureInfo.InvariantCulture)}us/step");
        foreach (var (k, v) in logs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(" - ").Append(k).Append(": ").Append(v.ToString("0.0000", CultureInfo.InvariantCulture));
        return sb.ToString();
    }
}
