using System.Globalization;
using Lab.Core;

namespace Lab.Experiments.Experiments;

/// <summary>One way people write a date: a name for the metrics and .NET's custom date pattern (invariant culture).</summary>
public sealed record DateFormat(string Name, string Pattern, string Example)
{
    public string Render(DateOnly date) => date.ToString(Pattern, CultureInfo.InvariantCulture);

    /// <summary>The date <paramref name="text"/> names in this format (two-digit years read 1950-2049), or null.</summary>
    public DateOnly? Parse(string text) =>
        DateOnly.TryParseExact(text, Pattern, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}

/// <summary>One translation example: the date, the format it is written in, the source text and the ISO target.</summary>
public sealed record DateExample(DateOnly Date, DateFormat Format)
{
    public string Source => Format.Render(Date);
    public string Target => DateData.Iso(Date);
}

/// <summary>
/// The attention experiment's task: dates from 1950 to 2049 written in <see cref="Formats"/>, to be translated to ISO
/// "yyyy-MM-dd". Held-out dates are drawn first and never appear in training, in any format.
/// </summary>
public static class DateData
{
    public static readonly DateOnly First = new(1950, 1, 1), Last = new(2049, 12, 31);

    /// <summary>
    /// Nine formats, each shown for 3 May 1979. The two-digit years read back within 1950-2049 (the invariant
    /// calendar's TwoDigitYearMax is 2049), which is why the dates span that century.
    /// </summary>
    public static readonly IReadOnlyList<DateFormat> Formats =
    [
        new("long", "d MMMM yyyy", "3 May 1979"),
        new("short", "dd/MM/yy", "03/05/79"),
        new("weekday", "dddd, d MMMM yyyy", "Thursday, 3 May 1979"),
        new("japanese", "yyyy'年'M'月'd'日'", "1979年5月3日"),
        new("us", "MMMM d, yyyy", "May 3, 1979"),
        new("dotted", "dd.MM.yyyy", "03.05.1979"),
        new("abbreviated", "dd-MMM-yyyy", "03-May-1979"),
        new("compact", "yyyyMMdd", "19790503"),
        new("terse", "ddd d MMM yy", "Thu 3 May 79"),
    ];

    public const int TargetLength = 10;

    /// <summary>The decoder's start token (a tab, as in Keras's character seq2seq example): no date contains it.</summary>
    public const string Start = "\t";

    public static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The longest source any date can have (a Wednesday in September, in the weekday format).</summary>
    public static int MaxSourceLength { get; } = Formats.Max(f => Enumerable.Range(0, 366).Max(i => f.Render(new DateOnly(2000, 1, 1).AddDays(i)).Length));

    /// <summary>Every date of the range in a seeded random order: the first <paramref name="heldOut"/> are the test dates, the rest training dates.</summary>
    public static (DateOnly[] Train, DateOnly[] Test) Split(int heldOut, Generator g)
    {
        int days = Last.DayNumber - First.DayNumber + 1;
        if (heldOut < 1 || heldOut >= days) throw new ArgumentException($"DateData.Split: held-out dates must be in [1, {days}), got {heldOut}.");
        var all = Enumerable.Range(0, days).Select(First.AddDays).ToArray();
        for (int i = all.Length - 1; i > 0; i--)
        {
            int j = g.NextInt(i + 1);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return (all[heldOut..], all[..heldOut]);
    }

    /// <summary><paramref name="count"/> training examples: a random training date in a random format each.</summary>
    public static DateExample[] Sample(DateOnly[] dates, int count, Generator g) =>
        [.. Enumerable.Range(0, count).Select(_ => new DateExample(dates[g.NextInt(dates.Length)], Formats[g.NextInt(Formats.Count)]))];

    /// <summary>Every date in every format (the test set: the same dates in each format, so formats compare fairly).</summary>
    public static DateExample[] EveryFormat(DateOnly[] dates) => [.. Formats.SelectMany(f => dates.Select(d => new DateExample(d, f)))];
}
