using System.Text.RegularExpressions;
using Lab.Core.Logging;
using Lab.Core.Tests.IO;
using Xunit;

namespace Lab.Core.Tests.Logging;

public class TensorBoardWriterTests
{
    private sealed record Scalar(string Tag, float Value);
    private sealed record Event(double WallTime, long Step, string? FileVersion, List<Scalar> Scalars);

    [Fact]
    public void EventFile_DecodesBackToTheScalarsWritten()
    {
        using var tmp = new TempDirectory();
        string logDir = tmp.File("runs/exp1");
        double before = Now();
        string file;
        using (var tb = new TensorBoardWriter(logDir))
        {
            file = tb.FilePath;
            tb.AddScalar("loss", 0.5f, 0);
            tb.AddScalar("loss", 0.25f, 1);
            tb.AddScalars(new Dictionary<string, float> { ["loss"] = 0.125f, ["val_accuracy"] = 0.875f }, 2);
            tb.AddScalar("big_step", float.NaN, 1L << 33);
        }
        double after = Now();

        Assert.Equal(logDir, Path.GetDirectoryName(file));
        Assert.Matches(@"^events\.out\.tfevents\.\d{10}\." + Regex.Escape(Environment.MachineName) + "$", Path.GetFileName(file));
        long stamp = long.Parse(Path.GetFileName(file).Split('.')[3]);
        Assert.InRange(stamp, (long)before, (long)after + 1);

        var events = TfRecordTestReader.Read(File.ReadAllBytes(file)).Select(DecodeEvent).ToList();
        Assert.Equal(5, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Empty(events[0].Scalars);
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 0.01, after + 0.01));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.WallTime <= p.Second.WallTime));

        Assert.Equal([0L, 1, 2, 1L << 33], events.Skip(1).Select(e => e.Step));
        Assert.Equal([new Scalar("loss", 0.5f)], events[1].Scalars);
        Assert.Equal([new Scalar("loss", 0.25f)], events[2].Scalars);
        Assert.Equal([new Scalar("loss", 0.125f), new Scalar("val_accuracy", 0.875f)], events[3].Scalars);
        Assert.Equal("big_step", events[4].Scalars.Single().Tag);
        Assert.True(float.IsNaN(events[4].Scalars.Single().Value));
    }

    [Fact]
    public void Flush_MakesEventsVisibleWhileOpen()
    {
        using var tmp = new TempDirectory();
        using var tb = new TensorBoardWriter(tmp.Path);
        tb.AddScalar("lr", 1e-3f, 10);
        tb.Flush();

        byte[] bytes;
        using (var read = new FileStream(tb.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var copy = new MemoryStream())
        {
            read.CopyTo(copy);
            bytes = copy.ToArray();
        }
        var last = DecodeEvent(TfRecordTestReader.Read(bytes)[^1]);
        Assert.Equal(10, last.Step);
        Assert.Equal([new Scalar("lr", 1e-3f)], last.Scalars);
    }

    [Fact]
    public void TwoWritersInOneDirectory_GetTwoFiles()
    {
        using var tmp = new TempDirectory();
        using var a = new TensorBoardWriter(tmp.Path);
        using var b = new TensorBoardWriter(tmp.Path);
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Contains("tfevents", Path.GetFileName(b.FilePath));
    }

    [Fact]
    public void CorruptedByte_IsCaughtByTheReadersCrcCheck()
    {
        // Guards the guard: the reader used above really checks the CRCs.
        using var tmp = new TempDirectory();
        string file;
        using (var tb = new TensorBoardWriter(tmp.Path))
        {
            file = tb.FilePath;
            tb.AddScalar("loss", 0.5f, 3);
        }
        byte[] bytes = File.ReadAllBytes(file);
        bytes[^6] ^= 0x01; // inside the last record's data
        Assert.Throws<InvalidDataException>(() => TfRecordTestReader.Read(bytes));
    }

    [Fact]
    public void UseAfterDispose_Throws()
    {
        using var tmp = new TempDirectory();
        var tb = new TensorBoardWriter(tmp.Path);
        tb.Dispose();
        tb.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tb.AddScalar("x", 1f, 0));
        using var other = new TensorBoardWriter(tmp.Path);
        Assert.Throws<ArgumentException>(() => other.AddScalar("", 1f, 0));
    }

    private static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    private static Event DecodeEvent(byte[] record)
    {
        double wallTime = double.NaN;
        long step = 0;
        string? version = null;
        var scalars = new List<Scalar>();
        foreach (var field in ProtoTestReader.Parse(record))
        {
            switch (field.Number)
            {
                case 1: wallTime = field.Double; break;
                case 2: step = field.Int64; break;
                case 3: version = field.String; break;
                case 5:
                    foreach (var value in ProtoTestReader.Parse(field.Bytes).Where(f => f.Number == 1))
                    {
                        var parts = ProtoTestReader.Parse(value.Bytes);
                        scalars.Add(new Scalar(parts.Single(p => p.Number == 1).String, parts.Single(p => p.Number == 2).Float));
                    }
                    break;
                default: throw new InvalidDataException($"unexpected Event field {field.Number}");
            }
        }
        return new Event(wallTime, step, version, scalars);
    }
}
