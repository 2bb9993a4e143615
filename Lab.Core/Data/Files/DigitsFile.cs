using System.Globalization;
using Lab.Core.IO;

namespace Lab.Core.Data.Files;

/// <summary>
/// Reads scikit-learn's digits file: one image per line, 65 comma-separated integers (64 pixel counts 0..16
/// row-major 8x8, then the label 0..9), gzip-compressed or plain.
/// </summary>
public static class DigitsFile
{
    /// <summary>Where the repository ships the file, relative to its root.</summary>
    public const string RelativePath = "data/digits.csv.gz";

    private const int FieldsPerRow = DigitsData.PixelsPerImage + 1;
    private const int MaxPixel = 16;

    /// <summary>Images in the shipped file (scikit-learn's load_digits).</summary>
    public const int ShippedRows = 1797;

    /// <summary>Loads the shipped file found by <see cref="FindDefault"/>, checking it holds all <see cref="ShippedRows"/> digits.</summary>
    public static DigitsData LoadDefault() => Load(FindDefault(), ShippedRows);

    /// <summary>Loads <paramref name="path"/>; a malformed row raises <see cref="InvalidDataException"/> naming
    /// the file and the line, and so does a row count other than <paramref name="expectedRows"/> when one is given
    /// (a file cut at a line boundary parses cleanly otherwise).</summary>
    public static DigitsData Load(string path, int? expectedRows = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var images = new List<float>(1797 * DigitsData.PixelsPerImage);
        var labels = new List<int>(1797);
        Span<int> fields = stackalloc int[FieldsPerRow];

        using (var reader = new StreamReader(MaybeGzip.OpenRead(path)))
        {
            int lineNumber = 0;
            try
            {
                while (reader.ReadLine() is { } line)
                {
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }
                    ParseRow(line, fields, path, lineNumber);
                    for (int i = 0; i < DigitsData.PixelsPerImage; i++)
                    {
                        images.Add(fields[i] / (float)MaxPixel);
                    }
                    labels.Add(fields[DigitsData.PixelsPerImage]);
                }
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                // A corrupt gzip stream surfaces here from ReadLine.
                throw new InvalidDataException($"{path}: corrupt data after line {lineNumber}: {e.Message}", e);
            }
        }

        if (labels.Count == 0)
        {
            throw new InvalidDataException($"{path}: no rows.");
        }
        if (expectedRows is int rows && labels.Count != rows)
        {
            throw new InvalidDataException(
                $"{path}: {labels.Count} rows of {FieldsPerRow} fields, expected {rows}: the file is incomplete or not the shipped digits.");
        }
        return new DigitsData([.. images], [.. labels], labels.Count);
    }

    /// <summary>
    /// Finds <see cref="RelativePath"/> by walking up from the application's base directory and from the current
    /// directory, so tests, benchmarks and the CLI find it whether run from bin/ or from the repository root.
    /// </summary>
    public static string FindDefault() => FindFrom(AppContext.BaseDirectory, Directory.GetCurrentDirectory());

    /// <summary>Walks up from each of <paramref name="starts"/> looking for <see cref="RelativePath"/>.</summary>
    internal static string FindFrom(params string[] starts)
    {
        var looked = new List<string>();
        foreach (string start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, RelativePath.Replace('/', Path.DirectorySeparatorChar));
                if (File.Exists(candidate))
                {
                    return candidate;
                }
                if (!looked.Contains(candidate))
                {
                    looked.Add(candidate);
                }
            }
        }
        throw new FileNotFoundException(
            $"Could not find {RelativePath} in any parent of the application or current directory. Looked at:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", looked),
            RelativePath);
    }

    private static void ParseRow(string line, Span<int> fields, string path, int lineNumber)
    {
        ReadOnlySpan<char> rest = line;
        int count = 0;
        while (true)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> cell = comma < 0 ? rest : rest[..comma];
            if (count < FieldsPerRow)
            {
                fields[count] = ParseCell(cell, count, path, lineNumber);
            }
            count++;
            if (comma < 0)
            {
                break;
            }
            rest = rest[(comma + 1)..];
        }
        if (count != FieldsPerRow)
        {
            throw new InvalidDataException(
                $"{path}: line {lineNumber}: expected {FieldsPerRow} comma-separated fields (64 pixels and a label), found {count}.");
        }
    }

    private static int ParseCell(ReadOnlySpan<char> cell, int column, string path, int lineNumber)
    {
        bool isLabel = column == DigitsData.PixelsPerImage;
        string what = isLabel ? "label" : $"pixel {column}";
        if (!int.TryParse(cell, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                CultureInfo.InvariantCulture, out int value))
        {
            throw new InvalidDataException($"{path}: line {lineNumber}: {what} is '{cell}', not an integer.");
        }
        int max = isLabel ? DigitsData.ClassCount - 1 : MaxPixel;
        if (value < 0 || value > max)
        {
            throw new InvalidDataException($"{path}: line {lineNumber}: {what} is {value}, outside 0..{max}.");
        }
        return value;
    }
}
