using System.IO.Compression;
using System.Text;
using Lab.Core.IO;
using Xunit;

namespace Lab.Core.Tests.IO;

public class MaybeGzipTests
{
    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) zip.Write(data);
        return buffer.ToArray();
    }

    private static byte[] Text(int lines) =>
        Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, lines).Select(i => $"{i},{i * 7 % 17},{i * 13 % 10}\n")));

    [Fact]
    public void AWholeFileReadsBack()
    {
        using var tmp = new TempDirectory();
        var data = Text(2000);
        string path = tmp.File("whole.gz");
        File.WriteAllBytes(path, Gzip(data));
        Assert.Equal(data, MaybeGzip.ReadAllBytes(path));
        using var reader = new StreamReader(MaybeGzip.OpenRead(path));
        Assert.Equal(Encoding.ASCII.GetString(data), reader.ReadToEnd());
    }

    [Fact]
    public void AFileCutAnywhereFailsNamingItself()
    {
        using var tmp = new TempDirectory();
        var gz = Gzip(Text(2000));
        string path = tmp.File("cut.gz");
        // Every cut from just after the magic to one byte short of the end; GZipStream alone returns the partial data for most.
        for (int length = 2; length < gz.Length; length += length < 40 || gz.Length - length < 40 ? 1 : 97)
        {
            File.WriteAllBytes(path, gz[..length]);
            var e = Assert.Throws<InvalidDataException>(() => MaybeGzip.ReadAllBytes(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.Throws<InvalidDataException>(() =>
            {
                using var reader = new StreamReader(MaybeGzip.OpenRead(path));
                while (reader.ReadLine() is not null) { }
            });
        }
    }

    [Fact]
    public void ACutFileNamesTheTruncation()
    {
        using var tmp = new TempDirectory();
        var gz = Gzip(Text(2000));
        string path = tmp.File("half.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => MaybeGzip.ReadAllBytes(path));
        Assert.Contains("truncated gzip file", e.Message);
    }

    [Theory]
    [InlineData(8)]   // the CRC-32 of the trailer
    [InlineData(4)]   // its ISIZE
    public void ADamagedTrailerFails(int fromEnd)
    {
        using var tmp = new TempDirectory();
        var gz = Gzip(Text(300));
        gz[^fromEnd] ^= 0x01;
        string path = tmp.File("trailer.gz");
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<InvalidDataException>(() => MaybeGzip.ReadAllBytes(path));
        Assert.StartsWith(path + ": ", e.Message);
    }
}
