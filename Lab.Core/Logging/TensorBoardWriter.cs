namespace Lab.Core.Logging;

/// <summary>
/// Writes scalars to a TensorBoard event file (<c>events.out.tfevents.{unix seconds}.{host}</c>) in a log
/// directory; point <c>tensorboard --logdir</c> at the directory. The file is a sequence of TFRecords, each an
/// <c>Event</c> protobuf: first one carrying <c>file_version = "brain.Event:2"</c>, then one per step with a
/// <c>Summary</c> of (tag, simple_value) pairs. Thread-safe; flushes on <see cref="Dispose"/>.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    // Field numbers from tensorflow/core/util/event.proto and framework/summary.proto.
    private const int EventWallTime = 1, EventStep = 2, EventFileVersion = 3, EventSummary = 5;
    private const int SummaryValue = 1;
    private const int ValueTag = 1, ValueSimpleValue = 2;
    internal const string FileVersion = "brain.Event:2";

    private readonly FileStream _file;
    private readonly TfRecordWriter _records;
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Creates <paramref name="logDir"/> if needed and starts a new event file in it.</summary>
    public TensorBoardWriter(string logDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDir);
        Directory.CreateDirectory(logDir);
        LogDir = logDir;
        (_file, FilePath) = CreateEventFile(logDir);
        _records = new TfRecordWriter(_file);
        var first = new ProtoWriter()
            .WriteDouble(EventWallTime, WallTime())
            .WriteString(EventFileVersion, FileVersion);
        _records.Write(first.WrittenSpan);
        _file.Flush();
    }

    /// <summary>The directory the event file is in.</summary>
    public string LogDir { get; }

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    /// <summary>Records <paramref name="value"/> under <paramref name="tag"/> at <paramref name="step"/>.</summary>
    public void AddScalar(string tag, float value, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        WriteSummary(step, new ProtoWriter().WriteMessage(SummaryValue, ScalarValue(tag, value)));
    }

    /// <summary>Records several scalars at one step, in one event (e.g. "loss" and "val_loss" after an epoch).</summary>
    public void AddScalars(IReadOnlyDictionary<string, float> scalars, long step)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        var summary = new ProtoWriter();
        foreach (var (tag, value) in scalars)
        {
            if (string.IsNullOrEmpty(tag))
            {
                throw new ArgumentException("A scalar tag is null or empty.", nameof(scalars));
            }
            summary.WriteMessage(SummaryValue, ScalarValue(tag, value));
        }
        WriteSummary(step, summary);
    }

    /// <summary>Pushes buffered events to the file so a running TensorBoard sees them.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.Flush();
        }
    }

    /// <summary>Flushes and closes the event file.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _file.Flush();
            _file.Dispose();
        }
    }

    private static ProtoWriter ScalarValue(string tag, float value) =>
        new ProtoWriter().WriteString(ValueTag, tag).WriteFloat(ValueSimpleValue, value);

    private void WriteSummary(long step, ProtoWriter summary)
    {
        var ev = new ProtoWriter()
            .WriteDouble(EventWallTime, WallTime())
            .WriteInt64(EventStep, step)
            .WriteMessage(EventSummary, summary);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _records.Write(ev.WrittenSpan);
        }
    }

    private static double WallTime() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    private static (FileStream File, string Path) CreateEventFile(string logDir)
    {
        string name = $"events.out.tfevents.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}";
        // Two writers started in the same second in one directory would collide; TensorBoard reads any file whose
        // name contains "tfevents", so a numeric suffix keeps both.
        for (int attempt = 0; ; attempt++)
        {
            string path = Path.Combine(logDir, attempt == 0 ? name : $"{name}.{attempt}");
            try
            {
                return (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 14), path);
            }
            catch (IOException) when (File.Exists(path) && attempt < 1000)
            {
            }
        }
    }
}
