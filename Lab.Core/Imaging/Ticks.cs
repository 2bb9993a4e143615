using System.Globalization;
using System.Text;

namespace Lab.Core.Imaging;

/// <summary>A tick: its position in data units and the label drawn beside it.</summary>
public readonly record struct Tick(double Value, string Label);

/// <summary>
/// "Nice" tick positions and labels. Linear axes step by 1, 2, 2.5 or 5 times a power of ten, chosen as the
/// smallest such step that gives no more ticks than asked for (what matplotlib's MaxNLocator does); log axes
/// put ticks on powers of ten, adding 2 and 5 when the range spans less than two decades.
/// </summary>
public static class Ticks
{
    private static readonly double[] Steps = [1, 2, 2.5, 5, 10];

    /// <summary>Ticks inside [<paramref name="min"/>, <paramref name="max"/>], at most about
    /// <paramref name="maxTicks"/> of them.</summary>
    public static IReadOnlyList<Tick> Linear(double min, double max, int maxTicks = 7)
    {
        if (!(max > min) || !double.IsFinite(min) || !double.IsFinite(max))
        {
            return double.IsFinite(min) ? [new Tick(min, Format(min, 0))] : [];
        }
        maxTicks = Math.Max(2, maxTicks);
        double raw = (max - min) / (maxTicks - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        int stepIndex = Steps.Length - 1;
        for (int i = 0; i < Steps.Length; i++)
        {
            if (Steps[i] * magnitude >= raw * (1 - 1e-9))
            {
                stepIndex = i;
                break;
            }
        }
        double step = Steps[stepIndex] * magnitude;

        // A short range can leave one or two ticks inside at the chosen step (0 alone on [-0.4, 0.4]): step
        // down through the nice steps until three fit.
        while (Count(min, max, step) < Math.Min(3, maxTicks) && step > raw / 10)
        {
            if (--stepIndex < 0)
            {
                (stepIndex, magnitude) = (Steps.Length - 2, magnitude / 10);
            }
            step = Steps[stepIndex] * magnitude;
        }

        long first = (long)Math.Ceiling(min / step - 1e-9), last = (long)Math.Floor(max / step + 1e-9);
        var values = new List<double>();
        for (long k = first; k <= last; k++)
        {
            values.Add(k * step);
        }
        int decimals = DecimalsFor(values);
        return [.. values.Select(v => new Tick(v, Format(v, decimals)))];
    }

    private static long Count(double min, double max, double step) =>
        (long)Math.Floor(max / step + 1e-9) - (long)Math.Ceiling(min / step - 1e-9) + 1;

    /// <summary>Ticks of a log axis between positive <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static IReadOnlyList<Tick> Log(double min, double max)
    {
        if (!(min > 0) || !(max > min))
        {
            return [];
        }
        int lo = (int)Math.Floor(Math.Log10(min) + 1e-9), hi = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        double[] mantissas = hi - lo <= 2 ? [1, 2, 5] : [1];
        int every = Math.Max(1, (hi - lo + 7) / 8); // beyond eight decades label every other one
        // Plain numbers while every tick is short (0.001 .. 10000), otherwise powers of ten throughout.
        bool plain = lo >= -3 && hi <= 4;
        var ticks = new List<Tick>();
        for (int e = lo; e <= hi; e++)
        {
            if ((e - lo) % every != 0)
            {
                continue;
            }
            foreach (double m in mantissas)
            {
                double v = m * Math.Pow(10, e);
                if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9))
                {
                    ticks.Add(new Tick(v, plain ? Format(v, Math.Max(0, -e)) : FormatPower(m, e)));
                }
            }
        }
        return ticks;
    }

    /// <summary>The fewest decimals (up to 10) that print every value exactly enough to tell them apart.</summary>
    internal static int DecimalsFor(IReadOnlyList<double> values)
    {
        for (int d = 0; d < 10; d++)
        {
            double scale = Math.Pow(10, d);
            if (values.All(v => Math.Abs(v * scale - Math.Round(v * scale)) < 1e-6 * Math.Max(1, Math.Abs(v * scale))))
            {
                return d;
            }
        }
        return 10;
    }

    /// <summary>Invariant-culture fixed-point text with a real minus sign (U+2212), as matplotlib prints.</summary>
    public static string Format(double value, int decimals)
    {
        if (Math.Abs(value) < 0.5 * Math.Pow(10, -decimals))
        {
            value = 0; // no "-0"
        }
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture).Replace('-', '\u2212');
    }

    /// <summary>A number in compact form for annotations: up to <paramref name="significant"/> digits,
    /// thousands and small values without exponent where short enough.</summary>
    public static string Compact(double value, int significant = 3)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            return value == 0 ? "0" : value.ToString(CultureInfo.InvariantCulture);
        }
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        if (magnitude >= 6 || magnitude < -4)
        {
            return value.ToString("0.##e0", CultureInfo.InvariantCulture).Replace('-', '\u2212');
        }
        int decimals = Math.Max(0, significant - 1 - magnitude);
        double rounded = Math.Round(value, decimals);
        return Format(rounded, DecimalsFor([rounded]) < decimals ? DecimalsFor([rounded]) : decimals);
    }

    private static string FormatPower(double mantissa, int exponent)
    {
        var text = new StringBuilder();
        if (mantissa != 1)
        {
            text.Append(mantissa.ToString(CultureInfo.InvariantCulture)).Append('\u00D7');
        }
        text.Append("10");
        foreach (char c in exponent.ToString(CultureInfo.InvariantCulture))
        {
            text.Append(c switch
            {
                '-' => '\u207B',
                '1' => '\u00B9',
                '2' => '\u00B2',
                '3' => '\u00B3',
                _ => (char)('\u2070' + (c - '0')),
            });
        }
        return text.ToString();
    }
}
