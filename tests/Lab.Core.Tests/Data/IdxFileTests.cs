using System.IO.Compression;
using Lab.Core.Data.Files;
using Lab.Core.Tests.IO;
using Xunit;

namespace Lab.Core.Tests.Data;

public class IdxFileTests
{
    [Theory]
    [InlineData("imgs.idx3", false)]
    [InlineData("imgs.idx3.gz", true)]
    public void Images_RoundTrip(string name, bool expectGzip)
    {
        using var tmp = new TempDirectory();
        string path = tmp.File(name);
        var bytes = new byte[7 * 5 * 4];
        new Random(3).NextBytes(bytes);
        IdxFile.Write(path, bytes, [7, 5, 4]);

        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(expectGzip, raw[0] == 0x1F && raw[1] == 0x8B);
        if (!expectGzip)
        {
            Assert.Equal(new byte[] { 0, 0, 8, 3, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 0, 4 }, raw[..16]);
        }

        var images = IdxFile.ReadImages(path);
        Assert.Equal((7, 5, 4), (images.Count, images.Rows, images.Columns));
        Assert.Equal(bytes.Select(b => b / 255f), images.Pixels);
    }

    [Fact]
    public void Labels_RoundTrip_AndGzipIsDetectedByContentNotName()
    {
        using var tmp = new TempDirectory();
        int[] labels = [0, 9, 3, 255, 1];
        string gzNoSuffix = tmp.File("labels.idx1");
        string rawWithSuffix = tmp.File("labels.idx1.gz");
        IdxFile.WriteLabels(gzNoSuffix, labels, gzip: true);
        IdxFile.WriteLabels(rawWithSuffix, labels, gzip: false);
        Assert.Equal(0x1F, File.ReadAllBytes(gzNoSuffix)[0]);
        Assert.Equal(new byte[] { 0, 0, 8, 1, 0, 0, 0, 5, 0, 9, 3, 255, 1 }, File.ReadAllBytes(rawWithSuffix));

        Assert.Equal(labels, IdxFile.ReadLabels(gzNoSuffix));
        Assert.Equal(labels, IdxFile.ReadLabels(rawWithSuffix));
    }

    [Fact]
    public void WriteImages_QuantizesFloats()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("q.idx");
        IdxFile.WriteImages(path, [0f, 0.5f, 1f, 1.7f, -0.2f, 0.2f], count: 1, rows: 2, columns: 3);
        Assert.Equal([0f, 128 / 255f, 1f, 1f, 0f, 51 / 255f], IdxFile.ReadImages(path).Pixels);
    }

    [Fact]
    public void ReadPair_ChecksCounts()
    {
        using var tmp = new TempDirectory();
        string images = tmp.File("i.gz"), labels = tmp.File("l.gz"), shortLabels = tmp.File("s.gz");
        IdxFile.Write(images, new byte[3 * 2 * 2], [3, 2, 2]);
        IdxFile.WriteLabels(labels, [4, 5, 6]);
        IdxFile.WriteLabels(shortLabels, [4, 5]);

        var pair = IdxFile.ReadPair(images, labels);
        Assert.Equal((3, 2, 2, 4), (pair.Count, pair.Rows, pair.Columns, pair.PixelsPerImage));
        Assert.Equal([4, 5, 6], pair.Labels);

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadPair(images, shortLabels));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
        Assert.Contains(shortLabels, e.Message);
    }

    public static TheoryData<string, byte[], string> BadImageFiles => new()
    {
        { "wrong magic", [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0], "wrong magic 0x89504E47" },
        { "float type", [0, 0, 0x0D, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], "unsupported type code 0x0D (float32)" },
        { "labels as images", [0, 0, 8, 1, 0, 0, 0, 2, 1, 2], "says 1 dimensions, but images need 3" },
        { "tiny", [0, 0], "truncated: 2 bytes" },
        { "short header", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0], "truncated: the header needs 16 bytes (3 dimensions), file has 10" },
        { "negative dim", [0, 0, 8, 3, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1], "inconsistent dimensions: dimension 1 is -1" },
        { "zero rows", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "inconsistent dimensions: dimension 1 is 0" },
        { "huge", [0, 0, 8, 3, 0x7F, 0, 0, 0, 0x7F, 0, 0, 0, 0, 0, 0, 1], "more values than an array can hold" },
        { "truncated pixels", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5],
            "truncated: header says 2x2x3 = 12 bytes of pixels, file has 5" },
        { "trailing", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 7, 7, 9, 9, 9],
            "trailing garbage: header says 1x1x2 = 2 bytes of pixels, file has 3 more" },
    };

    [Theory]
    [MemberData(nameof(BadImageFiles))]
    public void BadImageFiles_AreRejectedWithFileAndProblem(string name, byte[] content, string expected)
    {
        using var tmp = new TempDirectory();
        foreach (bool gzip in new[] { false, true })
        {
            string path = tmp.File(name.Replace(' ', '-') + (gzip ? ".gz" : ""));
            WriteRaw(path, content, gzip);
            var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public void TruncatedLabels_AreRejected()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("t10k-labels-idx1-ubyte");
        WriteRaw(path, [0, 0, 8, 1, 0, 0, 0x27, 0x10, 1, 2, 3], gzip: false);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains("truncated: header says 10000 = 10000 bytes of labels, file has 3", e.Message);
    }

    [Fact]
    public void CutGzipStream_IsInvalidData()
    {
        using var tmp = new TempDirectory();
        string whole = tmp.File("whole.gz");
        var bytes = new byte[50 * 28 * 28];
        new Random(5).NextBytes(bytes);
        IdxFile.Write(whole, bytes, [50, 28, 28]);
        byte[] gz = File.ReadAllBytes(whole);
        string cut = tmp.File("cut.gz");
        File.WriteAllBytes(cut, gz[..(gz.Length / 2)]);

        // Either the gzip layer notices the missing end, or the IDX size check does; both name the file.
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(cut));
        Assert.StartsWith(cut + ": ", e.Message);
    }

    [Fact]
    public void Write_RejectsDataThatDoesNotMatchTheDimensions()
    {
        using var tmp = new TempDirectory();
        var e = Assert.Throws<ArgumentException>(() => IdxFile.Write(tmp.File("x"), new byte[5], [2, 3]));
        Assert.Contains("2x3 = 6 values but data has 5 bytes", e.Message);
        Assert.Throws<ArgumentException>(() => IdxFile.WriteLabels(tmp.File("y"), [1, 256]));
    }

    private static void WriteRaw(string path, byte[] content, bool gzip)
    {
        using var file = File.Create(path);
        if (!gzip)
        {
            file.Write(content);
            return;
        }
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(content);
    }
}
