using System.Text.Json;
using Lab.Core.Logging;
using Lab.Core.Tests.IO;
using Xunit;

namespace Lab.Core.Tests.Logging;

public class RunLogTests
{
    [Fact]
    public void Messages_LandInTheJsonLinesFile()
    {
        using var tmp = new TempDirectory();
        string outDir = tmp.File("run1");
        using (var log = RunLog.Create(outDir, console: false))
        {
            log.Information("Epoch {Epoch} loss {Loss}", 3, 0.25);
            log.Debug("detail {Name}", "conv1");
        }

        string[] lines = File.ReadAllLines(Path.Combine(outDir, RunLog.FileName));
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var root = first.RootElement;
            Assert.Equal("Epoch {Epoch} loss {Loss}", root.GetProperty("@mt").GetString());
            Assert.Equal(3, root.GetProperty("Epoch").GetInt32());
            Assert.Equal(0.25, root.GetProperty("Loss").GetDouble());
            Assert.True(DateTimeOffset.TryParse(root.GetProperty("@t").GetString(), out _));
            Assert.False(root.TryGetProperty("@l", out _)); // compact JSON omits the default Information level
        }
        using (var second = JsonDocument.Parse(lines[1]))
        {
            Assert.Equal("Debug", second.RootElement.GetProperty("@l").GetString());
            Assert.Equal("conv1", second.RootElement.GetProperty("Name").GetString());
        }
    }

    [Fact]
    public void WithConsole_StillWritesTheFile()
    {
        using var tmp = new TempDirectory();
        using (var log = RunLog.Create(tmp.Path))
        {
            log.Warning("careful {X}", 1.5);
        }
        using var doc = JsonDocument.Parse(File.ReadAllLines(Path.Combine(tmp.Path, RunLog.FileName)).Single());
        Assert.Equal("Warning", doc.RootElement.GetProperty("@l").GetString());
    }
}
