using System.Text.Json;
using Lab.Core.Training;
using Lab.Experiments.Logging;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>The run log: Serilog behind Microsoft.Extensions.Logging, one compact JSON object per line.</summary>
public class RunLogTests
{
    [Fact]
    public void Messages_land_in_the_json_lines_file_with_their_properties()
    {
        using var folder = new TempFolder();
        using (var log = RunLog.Create(folder["run1"]))
        {
            var logger = log.Factory.CreateLogger("test");
            logger.LogInformation("Epoch {Epoch} loss {Loss}", 3, 0.25);
            logger.LogDebug("detail {Name}", "conv1");
        }

        string[] lines = File.ReadAllLines(Path.Combine(folder["run1"], RunLog.FileName));
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var root = first.RootElement;
            Assert.Equal("Epoch {Epoch} loss {Loss}", root.GetProperty("@mt").GetString());
            Assert.Equal(3, root.GetProperty("Epoch").GetInt32());
            Assert.Equal(0.25, root.GetProperty("Loss").GetDouble());
            Assert.Equal("test", root.GetProperty("SourceContext").GetString());
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
    public void Lab_cores_epoch_logger_writes_each_epoch_and_warns_on_a_non_finite_metric()
    {
        using var folder = new TempFolder();
        using (var log = RunLog.Create(folder.Path))
        {
            var callback = new EpochLogger(log.Factory.CreateLogger<Trainer>());
            callback.OnEpochEnd(0, new Dictionary<string, double> { ["loss"] = 0.5, ["accuracy"] = 0.75 });
            callback.OnEpochEnd(1, new Dictionary<string, double> { ["loss"] = double.NaN });
        }
        var events = File.ReadAllLines(Path.Combine(folder.Path, RunLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal(1, events[0].GetProperty("Epoch").GetInt32());
        Assert.Equal(0.5, events[0].GetProperty("Metrics").GetProperty("loss").GetDouble());
        Assert.Equal(0.75, events[0].GetProperty("Metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal(typeof(Trainer).FullName, events[0].GetProperty("SourceContext").GetString());
        Assert.Equal(2, events[1].GetProperty("Epoch").GetInt32());
        Assert.Equal("Warning", events[2].GetProperty("@l").GetString());
        Assert.Equal("loss", events[2].GetProperty("Metric").GetString());
    }

    [Fact]
    public void With_the_console_on_the_file_still_gets_every_event()
    {
        using var folder = new TempFolder();
        using (var log = RunLog.Create(folder.Path, console: true))
            log.Factory.CreateLogger("test").LogWarning("careful {X}", 1.5);
        using var doc = JsonDocument.Parse(File.ReadAllLines(Path.Combine(folder.Path, RunLog.FileName)).Single());
        Assert.Equal("Warning", doc.RootElement.GetProperty("@l").GetString());
    }
}
