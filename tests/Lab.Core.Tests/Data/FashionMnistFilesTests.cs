using Lab.Core.Data.Files;
using Lab.Core.Tests.IO;
using Xunit;

namespace Lab.Core.Tests.Data;

public class FashionMnistFilesTests
{
    [Fact]
    public void MissingDirectory_GivesNullAndAReason()
    {
        using var tmp = new TempDirectory();
        string dir = tmp.File("nowhere");
        Assert.Null(FashionMnistFiles.TryLocate(out string reason, dir));
        Assert.Contains(dir, reason);
        Assert.Contains("does not exist", reason);
    }

    [Fact]
    public void IncompleteDirectory_NamesTheMissingFiles()
    {
        using var tmp = new TempDirectory();
        File.WriteAllBytes(tmp.File("train-images-idx3-ubyte.gz"), []);
        File.WriteAllBytes(tmp.File("train-labels-idx1-ubyte"), []);
        Assert.Null(FashionMnistFiles.TryLocate(out string reason, tmp.Path));
        Assert.Contains("t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz", reason);
        Assert.DoesNotContain("train-", reason);
    }

    [Fact]
    public void CompleteDirectory_IsFoundAndLoads()
    {
        using var tmp = new TempDirectory();
        IdxFile.Write(tmp.File("train-images-idx3-ubyte.gz"), new byte[4 * 28 * 28], [4, 28, 28]);
        IdxFile.WriteLabels(tmp.File("train-labels-idx1-ubyte"), [1, 2, 3, 4]); // decompressed copy works too
        IdxFile.Write(tmp.File("t10k-images-idx3-ubyte.gz"), new byte[2 * 28 * 28], [2, 28, 28]);
        IdxFile.WriteLabels(tmp.File("t10k-labels-idx1-ubyte.gz"), [9, 8]);

        var files = FashionMnistFiles.TryLocate(out string reason, tmp.Path);
        Assert.NotNull(files);
        Assert.Equal("", reason);
        Assert.Equal(tmp.File("train-labels-idx1-ubyte"), files.TrainLabels);
        Assert.Equal([1, 2, 3, 4], files.LoadTrain().Labels);
        Assert.Equal([9, 8], files.LoadTest().Labels);
    }

    [Fact]
    public void LabelsOutsideTheTenClasses_NameTheFileAndTheItem()
    {
        using var tmp = new TempDirectory();
        IdxFile.Write(tmp.File("train-images-idx3-ubyte.gz"), new byte[4 * 28 * 28], [4, 28, 28]);
        IdxFile.WriteLabels(tmp.File("train-labels-idx1-ubyte.gz"), [1, 2, 12, 4]);
        IdxFile.Write(tmp.File("t10k-images-idx3-ubyte.gz"), new byte[2 * 28 * 28], [2, 28, 28]);
        IdxFile.WriteLabels(tmp.File("t10k-labels-idx1-ubyte.gz"), [9, 10]);

        var files = FashionMnistFiles.TryLocate(out _, tmp.Path)!;
        var e = Assert.Throws<InvalidDataException>(() => files.LoadTrain());
        Assert.Equal($"{files.TrainLabels}: label of item 2 is 12, outside the 10 classes 0..9.", e.Message);
        e = Assert.Throws<InvalidDataException>(() => files.LoadTest());
        Assert.Equal($"{files.TestLabels}: label of item 1 is 10, outside the 10 classes 0..9.", e.Message);
        Assert.Equal([1, 2, 12, 4], IdxFile.ReadPair(files.TrainImages, files.TrainLabels).Labels);   // no class count: as stored
    }

    [Fact]
    public void InstalledCopy_WhenPresent_HasTheRealShape()
    {
        // Only machines with `dataset-fashion-mnist` installed have the files; elsewhere there is nothing to read.
        var files = FashionMnistFiles.TryLocate(out _);
        if (files is null)
        {
            return;
        }
        var test = files.LoadTest();
        Assert.Equal((10000, 28, 28), (test.Count, test.Rows, test.Columns));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Labels.Count(l => l == c)));
    }
}
