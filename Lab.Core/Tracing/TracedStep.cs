using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>Where a <see cref="TracedStep"/> is: before its first call, after the eager warm-up, or replaying its recording.</summary>
public enum TraceState { New, WarmedUp, Recorded }

/// <summary>
/// A training step recorded once and replayed without per-op dispatch: JAX's <c>jit</c>, or <c>torch.compile</c> with
/// CUDA graphs. Call 1 runs the step eagerly (the warm-up: gradient buffers and optimizer state come into being);
/// call 2 runs it eagerly while recording every kernel call (ops, shapes, buffers); later calls replay the planned
/// list: no autograd bookkeeping, no shape checks, no allocation, element-wise runs fused on the CPU, each segment
/// between host actions one captured graph on a device that supports it. Results are bit for bit the eager step's.
/// <para>
/// The rules: input shapes and devices are those of the recording (a mismatch throws, naming the input); host values
/// the step uploads (Tensor.FromArray of constants) become constants of the trace; host work that must see live values
/// (an optimizer's update, random draws) runs as host actions (<see cref="Trace.Host"/>; Optimizer.Step, Tensor.RandN,
/// Tensor.Rand and Dropout do so themselves); reading a tensor's values inside the step while it is recorded throws.
/// The outputs are the trace's own tensors, overwritten by the next call: read or copy them before it.
/// </para>
/// </summary>
public sealed class TracedStep : IDisposable
{
    private readonly Func<Tensor[], Tensor[]> _step;
    private Tensor[] _inputs = [];
    private Tensor[] _outputs = [];
    private int[][]? _shapes;
    private Device[] _devices = [];
    private List<TraceEntry>? _recorded;
    private TracePlan? _plan;
    private bool _disposed;

    private TracedStep(string name, Func<Tensor[], Tensor[]> step, TraceOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(step);
        Name = name;
        _step = step;
        Options = options ?? new TraceOptions();
    }

    /// <summary>A traced step over any number of inputs and outputs.</summary>
    public static TracedStep Create(string name, Func<Tensor[], Tensor[]> step, TraceOptions? options = null) => new(name, step, options);

    /// <summary>A traced step of one input and one output (a loss).</summary>
    public static TracedStep Create(string name, Func<Tensor, Tensor> step, TraceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        return new(name, inputs => [step(inputs[0])], options);
    }

    /// <summary>A traced step of two inputs (a batch and its labels) and one output.</summary>
    public static TracedStep Create(string name, Func<Tensor, Tensor, Tensor> step, TraceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        return new(name, inputs => [step(inputs[0], inputs[1])], options);
    }

    public string Name { get; }
    public TraceOptions Options { get; }
    public TraceState State { get; private set; }
    /// <summary>Calls so far (the warm-up and the recording included).</summary>
    public long Calls { get; private set; }

    /// <summary>Kernel calls in the recording.</summary>
    public int RecordedKernelCalls => Kernels(_recorded).Count();
    /// <summary>Host actions in the recording (optimizer updates, random draws).</summary>
    public int HostActions => _recorded?.Count(e => e is HostEntry) ?? 0;
    /// <summary>Entries of the replay after planning (a fused chain counts once).</summary>
    public int PlannedEntries => _plan?.Entries.Count ?? 0;
    /// <summary>Fused element-wise chains in the plan.</summary>
    public int FusedChains => _plan?.FusedChains ?? 0;
    /// <summary>The kernels of the recording, in order (tests check that every backend method is recorded).</summary>
    internal IEnumerable<KernelKind> RecordedKinds => Kernels(_recorded).Select(e => e.Kind);

    /// <summary>The kernel calls of a recording, those of side-by-side parts included, in order.</summary>
    private static IEnumerable<KernelEntry> Kernels(IEnumerable<TraceEntry>? entries) =>
        (entries ?? []).SelectMany(e => e switch
        {
            KernelEntry k => [k],
            SideBySideEntry s => s.Parts.SelectMany(p => Kernels(p)),
            _ => Enumerable.Empty<KernelEntry>(),
        });
    /// <summary>Segments of device kernels captured as graphs so far.</summary>
    public int CapturedGraphs => _plan?.CapturedGraphs ?? 0;

    /// <summary>
    /// Why a segment's device graph was given up (the first failure: the driver refused to capture, instantiate or
    /// launch it), or null while none was. Such a segment replays its kernels one by one, with the same results.
    /// </summary>
    public string? DeviceGraphFailure => _plan?.GraphFailure;

    /// <summary>
    /// Runs the step on <paramref name="inputs"/>: copies them into the trace's input buffers, then runs eagerly (calls 1
    /// and 2, the second recorded) or replays. Returns the trace's output tensors (the same array from the recording on),
    /// which the next call overwrites.
    /// </summary>
    public Tensor[] Run(params Tensor[] inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        if (Trace.IsRecording) throw new InvalidOperationException($"TracedStep '{Name}': Run was called inside a step that is being recorded; traced steps do not nest.");
        if (State == TraceState.New) Prepare(inputs);
        else Check(inputs);
        for (int i = 0; i < inputs.Length; i++) _inputs[i].Backend.Copy(inputs[i], _inputs[i]);
        Calls++;
        switch (State)
        {
            case TraceState.New:
                using (TensorScope.Suspend()) _outputs = Own(_step(_inputs));
                State = TraceState.WarmedUp;
                break;
            case TraceState.WarmedUp:
                Record();
                break;
            default:
                if (Options.Verify) VerifyRun();
                else _plan!.Run();
                break;
        }
        return _outputs;
    }

    /// <summary>Forgets the recording: the next call runs eagerly as a warm-up, the one after records again (for new shapes).</summary>
    public void Retrace()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _plan?.Dispose();
        (_plan, _recorded, _shapes, State) = (null, null, null, TraceState.New);
    }

    /// <summary>The planned replay, one entry per line (fused chains list their calls), for inspection.</summary>
    public string Describe()
    {
        if (_plan is null) return $"TracedStep '{Name}': {State}, nothing recorded yet.";
        var lines = new List<string>
        {
            $"TracedStep '{Name}': {RecordedKernelCalls} kernel calls and {HostActions} host actions recorded; {PlannedEntries} planned entries, {FusedChains} fused chains.",
        };
        if (DeviceGraphFailure is { } failure) lines.Add($"Device graphs given up, kernels replayed one by one: {failure}");
        for (int i = 0; i < _plan.Entries.Count; i++) lines.Add($"{i,5}  {_plan.Entries[i].Describe()}");
        return string.Join(Environment.NewLine, lines);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _plan?.Dispose();
        (_plan, _recorded, _inputs, _outputs) = (null, null, [], []);
    }

    private void Prepare(Tensor[] inputs)
    {
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"TracedStep '{Name}': input {i} is null.");
        _shapes = inputs.Select(t => t.ShapeArray()).ToArray();
        _devices = inputs.Select(t => t.Device).ToArray();
        using (TensorScope.Suspend()) _inputs = inputs.Select(t => Tensor.Empty(t.Shape, t.Device)).ToArray();
    }

    private void Check(Tensor[] inputs)
    {
        var shapes = _shapes!;
        if (inputs.Length != shapes.Length)
            throw new ArgumentException($"TracedStep '{Name}': {inputs.Length} inputs given, the trace was recorded with {shapes.Length}.", nameof(inputs));
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"TracedStep '{Name}': input {i} is null.");
            if (!t.Shape.SequenceEqual(shapes[i]))
                throw new ArgumentException($"TracedStep '{Name}': input {i} has shape {ShapeUtil.Format(t.Shape)}, the trace was recorded with {ShapeUtil.Format(shapes[i])}. " +
                    "A trace replays fixed shapes: make a new TracedStep for these shapes, or call Retrace().", nameof(inputs));
            if (t.Device != _devices[i])
                throw new ArgumentException($"TracedStep '{Name}': input {i} is on {t.Device}, the trace was recorded on {_devices[i]}. " +
                    "Move the input, or make a new TracedStep (or call Retrace()).", nameof(inputs));
        }
    }

    /// <summary>Detached views of the step's outputs: the trace keeps their buffers, and no autograd graph hangs on them.</summary>
    private Tensor[] Own(Tensor[]? outputs)
    {
        if (outputs is null) throw new InvalidOperationException($"TracedStep '{Name}': the step returned null; return the tensors to read after each call (an empty array for none).");
        var owned = new Tensor[outputs.Length];
        for (int i = 0; i < owned.Length; i++)
            owned[i] = (outputs[i] ?? throw new InvalidOperationException($"TracedStep '{Name}': the step's output {i} is null.")).Detach();
        return owned;
    }

    private List<TraceEntry> RunRecorded(out Tensor[] outputs)
    {
        var recording = new Recording(Name, Options.WrapDevice);
        using (TensorScope.Suspend())
        {
            Trace.Begin(recording);
            Tensor[]? raw;
            try { raw = _step(_inputs); }
            finally { Trace.End(); }
            outputs = Own(raw);
        }
        return recording.Entries;
    }

    private void Record()
    {
        var entries = RunRecorded(out var outputs);
        _outputs = outputs;
        _recorded = entries;
        _plan = TracePlan.Build(entries, Options);
        State = TraceState.Recorded;
    }

    /// <summary>An eager, recorded run compared with the recording; its outputs are copied into the trace's.</summary>
    private void VerifyRun()
    {
        var entries = RunRecorded(out var outputs);
        var recorded = _recorded!;
        for (int i = 0; i < Math.Max(entries.Count, recorded.Count); i++)
        {
            if (i >= entries.Count || i >= recorded.Count)
                throw Mismatch(i, i < recorded.Count ? recorded[i].Describe() : "the end of the recording",
                    i < entries.Count ? entries[i].Describe() : "the end of the step", "a different number of calls");
            if (!recorded[i].SameWork(entries[i], out var difference))
                throw Mismatch(i, recorded[i].Describe(), entries[i].Describe(), difference);
        }
        if (outputs.Length != _outputs.Length)
            throw new InvalidOperationException($"TracedStep '{Name}': call {Calls} returned {outputs.Length} outputs, the recording {_outputs.Length}.");
        for (int i = 0; i < outputs.Length; i++) _outputs[i].Backend.Copy(outputs[i], _outputs[i]);
    }

    private InvalidOperationException Mismatch(int index, string recorded, string now, string difference) => new(
        $"TracedStep '{Name}': call {Calls} does not do what the recording does at entry {index} ({difference}): recorded {recorded}; now {now}. " +
        "The step's ops depend on something a trace cannot see (data-dependent control flow, a changing host value): keep it eager, or make that part a host action (Trace.Host).");
}
