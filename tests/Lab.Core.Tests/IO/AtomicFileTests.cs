using Lab.Core.IO;
using Xunit;

namespace Lab.Core.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void WriteAllText_CreatesDirectoryAndWritesContent()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("a/b/c.txt");
        AtomicFile.WriteAllText(path, "héllo\nworld");
        Assert.Equal("héllo\nworld", File.ReadAllText(path));
        // No byte-order mark: the file starts with 'h'.
        Assert.Equal((byte)'h', File.ReadAllBytes(path)[0]);
        Assert.Single(Directory.GetFiles(tmp.File("a/b")));
    }

    [Fact]
    public void Overwrites_ExistingFile()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("x.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        AtomicFile.WriteAllBytes(path, [9, 8]);
        Assert.Equal(new byte[] { 9, 8 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void ThrowingWriter_LeavesExistingContentAndNoTempFile()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("keep.txt");
        AtomicFile.WriteAllText(path, "original");

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial new content"u8);
            throw new InvalidOperationException("writer failed");
        }));

        Assert.Equal("writer failed", error.Message);
        Assert.Equal("original", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void ThrowingWriter_WithoutExistingFile_CreatesNothing()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("new.txt");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("disk full")));
        Assert.Empty(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void Write_HandsAWritableStreamAndKeepsAllBytes()
    {
        using var tmp = new TempDirectory();
        string path = tmp.File("big.bin");
        var data = new byte[300_000];
        new Random(1).NextBytes(data);
        AtomicFile.Write(path, s => { s.Write(data, 0, 100_000); s.Write(data, 100_000, 200_000); });
        Assert.Equal(data, File.ReadAllBytes(path));
    }
}
