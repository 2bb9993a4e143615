using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>
/// What code inside a step tells a <see cref="TracedStep"/> that is recording it. Host code whose effect must be
/// redone at every call (an optimizer's update, whose arguments change with its step count and learning rate; a
/// random draw from a <see cref="Generator"/>) runs through <see cref="Host"/>: while a trace records, it runs once and
/// becomes one entry of the trace, which every replay runs again in its place; otherwise it simply runs.
/// </summary>
public static class Trace
{
    [ThreadStatic] private static Recording? t_recording;

    /// <summary>Whether a traced step is being recorded on this thread (outside its host actions).</summary>
    public static bool IsRecording => t_recording is not null;

    /// <summary>
    /// Runs <paramref name="action"/> now; while a step is recorded, also keeps it as a host action that every replay
    /// runs again, in the same place among the kernels. The kernels it calls are not recorded one by one (it may read
    /// tensors' values), so it sees live state at every replay. Name it for <see cref="TracedStep.Describe"/>.
    /// </summary>
    public static void Host(string label, Action action)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(action);
        var recording = t_recording;
        if (recording is null) { action(); return; }
        t_recording = null;
        try { action(); }
        finally { t_recording = recording; }
        recording.Add(new HostEntry(label, action));
    }

    /// <summary>
    /// Fills numel floats of <paramref name="storage"/> from <paramref name="offset"/> on the host (through a staging array
    /// uploaded to a device): random draws and dropout masks. While a step is recorded the fill is a host action, so every
    /// replay fills again, in the eager order; otherwise it runs at once and, with a static <paramref name="fill"/>,
    /// allocates nothing on the CPU.
    /// </summary>
    internal static void HostFill<TState>(string label, Storage storage, int offset, int numel, TState state, System.Buffers.SpanAction<float, TState> fill)
    {
        if (t_recording is null) FillNow(storage, offset, numel, null, state, fill);
        else RecordFill(label, storage, offset, numel, state, fill);
    }

    // Its own method: a closure's captures are allocated where its method starts, and the eager path must allocate nothing.
    private static void RecordFill<TState>(string label, Storage storage, int offset, int numel, TState state, System.Buffers.SpanAction<float, TState> fill)
    {
        var staging = storage is CpuStorage ? null : new float[numel];
        Host(label, () => FillNow(storage, offset, numel, staging, state, fill));
    }

    private static void FillNow<TState>(Storage storage, int offset, int numel, float[]? staging, TState state, System.Buffers.SpanAction<float, TState> fill)
    {
        Span<float> values = storage is CpuStorage cpu ? cpu.Data.AsSpan(offset, numel) : staging ?? new float[numel];
        fill(values, state);
        if (storage is not CpuStorage) storage.Backend.Upload(values, new StorageView(storage, offset, numel, [numel]));
    }

    /// <summary>The backend ops see: the device's own, or, while recording, the recording stand-in for it.</summary>
    internal static IBackend Resolve(IBackend backend) => t_recording is { } recording ? recording.For(backend) : backend;

    /// <summary>Starts recording on this thread into <paramref name="recording"/>.</summary>
    internal static void Begin(Recording recording)
    {
        if (t_recording is not null) throw new InvalidOperationException($"TracedStep '{recording.Name}': another step is being recorded on this thread; traced steps do not nest.");
        t_recording = recording;
    }

    internal static void End() => t_recording = null;
}

/// <summary>The entries of one recording run, in order, and the recording stand-ins of the backends it met.</summary>
internal sealed class Recording(string name, Func<IBackend, IBackend>? wrapDevice = null)
{
    public string Name { get; } = name;
    public List<TraceEntry> Entries { get; } = [];
    private readonly List<RecordingBackend> _backends = [];

    public void Add(TraceEntry entry) => Entries.Add(entry);

    public IBackend For(IBackend backend)
    {
        if (backend is RecordingBackend) return backend;
        foreach (var r in _backends)
            if (ReferenceEquals(r.Source, backend)) return r;
        var recorder = new RecordingBackend(this, wrapDevice?.Invoke(backend) ?? backend) { Source = backend };
        _backends.Add(recorder);
        return recorder;
    }

    public InvalidOperationException ReadError() => new(
        $"TracedStep '{Name}': the step reads a tensor's values (Item, ToArray, CopyTo) while being recorded, so a replay could not follow them. " +
        "Read the outputs after Run, or do host work that must see live values inside Trace.Host(...).");
}
