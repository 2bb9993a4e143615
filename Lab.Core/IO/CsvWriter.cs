using System.Globalization;
using System.Text;

namespace Lab.Core.IO;

/// <summary>
/// Collects a header and rows of numbers or strings and saves them as CSV (RFC 4180 quoting, invariant culture,
/// '\n' line ends). <see cref="Save"/> rewrites the whole file atomically, so a history written after every epoch
/// is always a complete, parseable file even if the run dies mid-write.
/// </summary>
public sealed class CsvWriter
{
    private readonly string[] _header;
    private readonly List<string[]> _rows = [];

    /// <summary>Starts a table with the given column names.</summary>
    public CsvWriter(IReadOnlyList<string> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.Count == 0)
        {
            throw new ArgumentException("A CSV needs at least one column.", nameof(header));
        }
        _header = [.. header];
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Header => _header;

    /// <summary>Number of data rows added so far.</summary>
    public int RowCount => _rows.Count;

    /// <summary>Adds a row of numbers; doubles print in their shortest round-trip form.</summary>
    public CsvWriter AddRow(params ReadOnlySpan<double> values)
    {
        CheckWidth(values.Length);
        var cells = new string[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            cells[i] = values[i].ToString("R", CultureInfo.InvariantCulture);
        }
        _rows.Add(cells);
        return this;
    }

    /// <summary>Adds a row of mixed cells: strings as they are, numbers (int, long, float, double, ...) in the
    /// invariant culture, null as an empty cell.</summary>
    public CsvWriter AddRow(params ReadOnlySpan<object?> cells)
    {
        CheckWidth(cells.Length);
        var texts = new string[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            texts[i] = Format(cells[i]);
        }
        _rows.Add(texts);
        return this;
    }

    /// <summary>The table as CSV text.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        AppendLine(text, _header);
        foreach (var row in _rows)
        {
            AppendLine(text, row);
        }
        return text.ToString();
    }

    /// <summary>Writes the table to <paramref name="path"/> atomically (directory created if needed).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToString());

    /// <summary>One-shot: writes <paramref name="header"/> and numeric <paramref name="rows"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<double>> rows)
    {
        var csv = new CsvWriter(header);
        foreach (var row in rows)
        {
            csv.AddRow([.. row]);
        }
        csv.Save(path);
    }

    private void CheckWidth(int count)
    {
        if (count != _header.Length)
        {
            throw new ArgumentException(
                $"Row {_rows.Count + 1} has {count} cells but the header has {_header.Length} columns ({string.Join(", ", _header)}).");
        }
    }

    private static string Format(object? cell) => cell switch
    {
        null => "",
        string s => s,
        // float through double would print 0.10000000149011612; format it as a float.
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString() ?? "",
    };

    private static void AppendLine(StringBuilder text, string[] cells)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }
            AppendCell(text, cells[i]);
        }
        text.Append('\n');
    }

    private static void AppendCell(StringBuilder text, string cell)
    {
        if (cell.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            text.Append(cell);
            return;
        }
        text.Append('"').Append(cell.Replace("\"", "\"\"")).Append('"');
    }
}
