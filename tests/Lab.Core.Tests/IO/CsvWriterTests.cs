using System.Globalization;
using Lab.Core.IO;
using Xunit;

namespace Lab.Core.Tests.IO;

public class CsvWriterTests
{
    [Fact]
    public void Numbers_RoundTripExactly()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("hist/history.csv");
        double[][] rows =
        [
            [1, 0.1, 1e-300, -2.5],
            [2, Math.PI, double.NaN, double.PositiveInfinity],
            [3, 1.0 / 3.0, -0.0, 123456789012345.0],
        ];
        CsvWriter.Write(path, ["epoch", "loss", "tiny", "other"], rows);

        var parsed = CsvTestReader.Parse(File.ReadAllText(path));
        Assert.Equal(["epoch", "loss", "tiny", "other"], parsed[0]);
        Assert.Equal(4, parsed.Count);
        for (int r = 0; r < rows.Length; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                double back = double.Parse(parsed[r + 1][c], CultureInfo.InvariantCulture);
                Assert.Equal(BitConverter.DoubleToInt64Bits(rows[r][c]), BitConverter.DoubleToInt64Bits(back));
            }
        }
        Assert.Equal("1,0.1,1E-300,-2.5", File.ReadAllLines(path)[1]);
    }

    [Fact]
    public void MixedCells_AreQuotedWhereNeeded()
    {
        var csv = new CsvWriter(["name", "value", "count"]);
        csv.AddRow("plain", 0.1f, 7);
        csv.AddRow("has,comma", 2.5, 8L);
        csv.AddRow("say \"hi\"\nnext line", null, -1);

        var parsed = CsvTestReader.Parse(csv.ToString());
        Assert.Equal(4, parsed.Count);
        Assert.Equal(["plain", "0.1", "7"], parsed[1]);
        Assert.Equal(["has,comma", "2.5", "8"], parsed[2]);
        Assert.Equal(["say \"hi\"\nnext line", "", "-1"], parsed[3]);
        Assert.Equal(3, csv.RowCount);
    }

    [Fact]
    public void Save_RewritesTheWholeFile()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("samples.csv");
        var csv = new CsvWriter(["x", "y"]);
        csv.AddRow(1.0, 2.0).Save(path);
        csv.AddRow(3.0, 4.0).Save(path);
        Assert.Equal(["x,y", "1,2", "3,4"], File.ReadAllLines(path));
    }

    [Fact]
    public void WrongRowWidth_Throws()
    {
        var csv = new CsvWriter(["a", "b"]);
        var e = Assert.Throws<ArgumentException>(() => csv.AddRow(1.0, 2.0, 3.0));
        Assert.Contains("3 cells", e.Message);
        Assert.Contains("2 columns", e.Message);
        Assert.Throws<ArgumentException>(() => new CsvWriter([]));
    }
}
