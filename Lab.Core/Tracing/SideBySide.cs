using System.Runtime.InteropServices;
using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>
/// Independent pieces of kernel work that may run at the same time: the two directions of a bidirectional recurrent
/// layer, say. Eagerly on the CPU the parts run side by side on the worker pool; while a step is recorded each part is
/// recorded into its own list, and the replay runs those lists side by side the same way. Which thread runs a part
/// never changes what it computes.
/// </summary>
internal static unsafe class SideBySide
{
    /// <summary>
    /// Runs body(state, part, backend) for every part in [0, parts). A part only calls kernels on the backend it is given,
    /// on buffers no other part writes: it makes no tensors, reads no values and runs no host actions. On the plain CPU
    /// backend with more than one thread the parts run side by side (one after the other when the pool is busy, as
    /// inside another parallel kernel); on other backends, one after the other.
    /// </summary>
    public static void Run(IBackend backend, int parts, delegate*<void*, int, IBackend, void> body, void* state)
    {
        if (backend is RecordingBackend recorder) { recorder.RecordSideBySide(parts, body, state); return; }
        if (parts > 1 && backend is CpuBackend && Cpu.Gemm.MaxThreads > 1)
        {
            var handle = GCHandle.Alloc(backend);
            try
            {
                var job = new Job { Body = body, State = state, Backend = GCHandle.ToIntPtr(handle) };
                if (Cpu.WorkerPool.TryRun(parts, 2, &Part, &job)) return;
            }
            finally { handle.Free(); }
        }
        for (int p = 0; p < parts; p++) body(state, p, backend);
    }

    private struct Job
    {
        public delegate*<void*, int, IBackend, void> Body;
        public void* State;
        public nint Backend;
    }

    private static void Part(void* job, int part, int parts)
    {
        var j = (Job*)job;
        j->Body(j->State, part, (IBackend)GCHandle.FromIntPtr(j->Backend).Target!);
    }
}

/// <summary>
/// Parts recorded by <see cref="SideBySide.Run"/>: each its own list of kernel calls, replayed side by side on the CPU's
/// worker pool (one after the other when it is busy or there is one thread).
/// </summary>
internal sealed unsafe class SideBySideEntry(IBackend backend, TraceEntry[][] parts) : TraceEntry
{
    public readonly IBackend Backend = backend;
    public readonly TraceEntry[][] Parts = parts;

    public override void Run()
    {
        var handle = GCHandle.Alloc(this);
        try { SideBySide.Run(Backend, Parts.Length, &Part, (void*)GCHandle.ToIntPtr(handle)); }
        finally { handle.Free(); }
    }

    // The parts' kernels were recorded with their backend: the one SideBySide.Run passes is not needed.
    private static void Part(void* state, int part, IBackend _)
    {
        foreach (var entry in ((SideBySideEntry)GCHandle.FromIntPtr((nint)state).Target!).Parts[part]) entry.Run();
    }

    public override string Describe() =>
        $"side by side, {Parts.Length} parts: " + string.Join("; ", Parts.Select((p, i) => $"part {i}: {p.Length} kernels" +
            (p.Length > 0 ? $" ({string.Join(", ", p.OfType<KernelEntry>().Select(k => k.Kind).Distinct())})" : "")));

    public override bool SameWork(TraceEntry other, out string difference)
    {
        difference = "";
        if (other is not SideBySideEntry s || s.Parts.Length != Parts.Length)
        {
            difference = "a different call (side-by-side parts)";
            return false;
        }
        for (int p = 0; p < Parts.Length; p++)
        {
            if (s.Parts[p].Length != Parts[p].Length) { difference = $"part {p} has {s.Parts[p].Length} kernels, the recording {Parts[p].Length}"; return false; }
            for (int i = 0; i < Parts[p].Length; i++)
                if (!Parts[p][i].SameWork(s.Parts[p][i], out var d)) { difference = $"part {p}, kernel {i}: {d}"; return false; }
        }
        return true;
    }
}
