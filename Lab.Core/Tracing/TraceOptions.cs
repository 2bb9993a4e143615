using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>How a <see cref="TracedStep"/> replays.</summary>
public sealed record TraceOptions
{
    /// <summary>
    /// Run the step eagerly again at every call after the recording, record that run too and compare the two entry by
    /// entry (kernel, shapes, scalar arguments, uploaded host values), throwing at the first difference: it catches a step
    /// whose ops depend on data or host state the trace cannot see. As slow as eager; for checking a step, not for speed.
    /// </summary>
    public bool Verify { get; init; }

    /// <summary>Fuse consecutive element-wise CPU kernels over one length into chains run block by block (on by default).</summary>
    public bool Fuse { get; init; } = true;

    /// <summary>Capture each segment of device kernels between host actions as one graph where the backend can (<see cref="IGraphCapture"/>).</summary>
    public bool DeviceGraphs { get; init; } = true;

    /// <summary>For tests: replaces the backend that recorded kernels run on (a stand-in device that captures graphs).</summary>
    internal Func<IBackend, IBackend>? WrapDevice { get; init; }
}
