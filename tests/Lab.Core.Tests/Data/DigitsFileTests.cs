using System.IO.Compression;
using System.Text;
using Lab.Core.Data.Files;
using Lab.Core.Tests.IO;
using Xunit;

namespace Lab.Core.Tests.Data;

public class DigitsFileTests
{
    private static readonly string GoodRow = string.Join(",", Enumerable.Range(0, 64).Select(i => i % 17)) + ",7";

    [Fact]
    public void ShippedFile_Has1797ImagesWithTheKnownClassCounts()
    {
        string path = DigitsFile.FindDefault();
        Assert.EndsWith(Path.Combine("data", "digits.csv.gz"), path);

        var digits = DigitsFile.Load(path);
        Assert.Equal(1797, digits.Count);
        Assert.Equal(1797 * 64, digits.Images.Length);
        Assert.Equal(1797, digits.Labels.Length);

        var counts = new int[10];
        foreach (int label in digits.Labels)
        {
            counts[label]++;
        }
        Assert.Equal([178, 182, 177, 183, 181, 182, 181, 179, 174, 180], counts);

        Assert.All(digits.Images, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(1f, digits.Images.Max());
        // First row of the file: 0,0,5,13,9,1,0,0, ... label 0; the next two rows are a 1 and a 2.
        Assert.Equal([0f, 0f, 5 / 16f, 13 / 16f, 9 / 16f, 1 / 16f, 0f, 0f], digits.Image(0)[..8].ToArray());
        Assert.Equal([0, 1, 2], digits.Labels[..3]);
    }

    [Fact]
    public void Locator_ListsEveryPlaceItLooked()
    {
        using var tmp = new TempDirectory();
        string start = Directory.CreateDirectory(tmp.File("a/b")).FullName;
        var e = Assert.Throws<FileNotFoundException>(() => DigitsFile.FindFrom(start));
        Assert.Contains(Path.Combine(start, "data", "digits.csv.gz"), e.Message);
        Assert.Contains(Path.Combine(tmp.Path, "a", "data", "digits.csv.gz"), e.Message);
        Assert.Contains(Path.Combine(tmp.Path, "data", "digits.csv.gz"), e.Message);

        // Once the file is there, the walk up finds it from below.
        string shipped = tmp.File("a/data/digits.csv.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(shipped)!);
        File.Copy(DigitsFile.FindDefault(), shipped);
        Assert.Equal(shipped, DigitsFile.FindFrom(start));
    }

    [Fact]
    public void PlainAndGzipAreDetectedByContent()
    {
        using var tmp = new TempDirectory();
        string text = GoodRow + "\n" + ReplaceCell(GoodRow, 64, "3") + "\n\n";
        string plain = tmp.File("plain.csv.gz"); // plain text despite the name
        File.WriteAllText(plain, text);
        string zipped = tmp.File("zipped.csv");  // gzip despite the name
        using (var gz = new GZipStream(File.Create(zipped), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.ASCII.GetBytes(text));
        }

        foreach (string path in new[] { plain, zipped })
        {
            var digits = DigitsFile.Load(path);
            Assert.Equal(2, digits.Count);
            Assert.Equal([7, 3], digits.Labels);
            Assert.Equal(Enumerable.Range(0, 64).Select(i => (i % 17) / 16f), digits.Image(1).ToArray());
        }
    }

    [Theory]
    [InlineData("1,2,3", "expected 65", 2)]
    [InlineData("EXTRA", "found 66", 2)]
    [InlineData("PIXEL17", "pixel 5 is 17, outside 0..16", 2)]
    [InlineData("LABEL10", "label is 10, outside 0..9", 2)]
    [InlineData("NEGATIVE", "pixel 5 is -1", 2)]
    [InlineData("TEXT", "pixel 5 is 'x', not an integer", 2)]
    [InlineData("FRACTION", "pixel 5 is '1.5', not an integer", 2)]
    [InlineData("EMPTYCELL", "pixel 5 is '', not an integer", 2)]
    public void BadRows_NameFileAndLine(string bad, string expected, int line)
    {
        string badRow = bad switch
        {
            "EXTRA" => GoodRow + ",1",
            "PIXEL17" => ReplaceCell(GoodRow, 5, "17"),
            "LABEL10" => ReplaceCell(GoodRow, 64, "10"),
            "NEGATIVE" => ReplaceCell(GoodRow, 5, "-1"),
            "TEXT" => ReplaceCell(GoodRow, 5, "x"),
            "FRACTION" => ReplaceCell(GoodRow, 5, "1.5"),
            "EMPTYCELL" => ReplaceCell(GoodRow, 5, ""),
            _ => bad,
        };
        using var tmp = new TempDirectory();
        string path = tmp.File("bad.csv");
        File.WriteAllText(path, GoodRow + "\n" + badRow + "\n" + GoodRow + "\n");

        var e = Assert.Throws<InvalidDataException>(() => DigitsFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains($"line {line}", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void EmptyFile_IsRejected()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("empty.csv");
        File.WriteAllText(path, "\n\n");
        var e = Assert.Throws<InvalidDataException>(() => DigitsFile.Load(path));
        Assert.Contains("no rows", e.Message);
    }

    [Fact]
    public void MissingFile_IsFileNotFound()
    {
        using var tmp = new TempDirectory();
        Assert.Throws<FileNotFoundException>(() => DigitsFile.Load(tmp.File("nope.csv.gz")));
    }

    [Fact]
    public void ShippedFileCutAtARowBoundary_NamesTheFileAndTheCounts()
    {
        using var tmp = new TempDirectory();
        var lines = Encoding.ASCII.GetString(MaybeGzipBytes(DigitsFile.FindDefault())).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(DigitsFile.ShippedRows, lines.Length);

        // Recompressed whole: the gzip layer is sound, only the row count tells.
        string recompressed = tmp.File("digits-916.csv.gz");
        using (var gz = new GZipStream(File.Create(recompressed), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.ASCII.GetBytes(string.Join("\n", lines[..916]) + "\n"));
        }
        var e = Assert.Throws<InvalidDataException>(() => DigitsFile.Load(recompressed, DigitsFile.ShippedRows));
        Assert.StartsWith(recompressed + ": ", e.Message);
        Assert.Contains("916 rows of 65 fields, expected 1797", e.Message);
        Assert.Equal(916, DigitsFile.Load(recompressed).Count);   // without an expected count, any number of rows is fine

        // The shipped bytes cut short: the gzip layer notices the missing trailer, whatever row the cut ends on.
        string cut = tmp.File("digits-cut.csv.gz");
        var bytes = File.ReadAllBytes(DigitsFile.FindDefault());
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        e = Assert.Throws<InvalidDataException>(() => DigitsFile.Load(cut));
        Assert.StartsWith(cut + ": truncated gzip file", e.Message);
    }

    private static byte[] MaybeGzipBytes(string path) => Lab.Core.IO.MaybeGzip.ReadAllBytes(path);

    private static string ReplaceCell(string row, int index, string value)
    {
        var cells = row.Split(',');
        cells[index] = value;
        return string.Join(",", cells);
    }
}
