using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>
/// The replay of a recording: its entries with the element-wise runs on the CPU fused into <see cref="FusedChain"/>s,
/// grouped into segments of kernels between host actions. On a backend that captures graphs (<see cref="IGraphCapture"/>),
/// each segment is captured on its first replay and launched as one graph from then on.
/// </summary>
internal sealed class TracePlan : IDisposable
{
    private readonly Segment[] _segments;

    private TracePlan(Segment[] segments, IReadOnlyList<TraceEntry> entries)
    {
        _segments = segments;
        Entries = entries;
    }

    /// <summary>The planned entries in order (fused chains, single kernels, host actions).</summary>
    public IReadOnlyList<TraceEntry> Entries { get; }

    public int FusedChains => Entries.Count(e => e is FusedChain);

    /// <summary>Segments captured as device graphs so far.</summary>
    public int CapturedGraphs => _segments.Count(s => s.Graph is not null);

    public static TracePlan Build(IReadOnlyList<TraceEntry> recorded, TraceOptions options)
    {
        var planned = options.Fuse ? Fuse(recorded) : [.. recorded];
        var segments = new List<Segment>();
        var run = new List<TraceEntry>();
        IBackend? backend = null;
        foreach (var entry in planned)
        {
            // An upload (a constant of the trace) copies from host memory: it stays outside graphs, as host actions do
            // (a CUDA graph cannot capture a copy from pageable memory).
            var entryBackend = entry switch { KernelEntry { Kind: KernelKind.Upload } => null, KernelEntry k => k.Backend, FusedChain c => c.Calls[0].Backend, SideBySideEntry p => p.Backend, _ => null };
            if (run.Count > 0 && (entryBackend is null || !ReferenceEquals(entryBackend, backend))) Close();
            if (entryBackend is null) segments.Add(new Segment([entry], null));
            else { backend = entryBackend; run.Add(entry); }
        }
        Close();
        return new TracePlan([.. segments], planned);

        void Close()
        {
            if (run.Count == 0) return;
            segments.Add(new Segment([.. run], options.DeviceGraphs ? backend as IGraphCapture : null));
            run.Clear();
        }
    }

    /// <summary>Consecutive element-wise CPU calls over one length, whose operands view each buffer at one offset, become one chain.</summary>
    private static List<TraceEntry> Fuse(IReadOnlyList<TraceEntry> entries)
    {
        var result = new List<TraceEntry>(entries.Count);
        var chain = new List<KernelEntry>();
        var views = new Dictionary<Storage, (int Offset, int Numel)>(ReferenceEqualityComparer.Instance);
        int length = -1;
        foreach (var entry in entries)
        {
            int n = entry is KernelEntry { Backend: CpuBackend } k ? FusedChain.ElementwiseLength(k) : -1;
            if (n > 0 && n == length && Consistent((KernelEntry)entry, views, commit: false))
            {
                Consistent((KernelEntry)entry, views, commit: true);
                chain.Add((KernelEntry)entry);
                continue;
            }
            Flush();
            if (n > 0)
            {
                length = n;
                Consistent((KernelEntry)entry, views, commit: true);
                chain.Add((KernelEntry)entry);
            }
            else result.Add(entry);
        }
        Flush();
        return result;

        void Flush()
        {
            if (chain.Count == 1) result.Add(chain[0]);
            else if (chain.Count > 1) result.Add(new FusedChain([.. chain], length));
            chain.Clear();
            views.Clear();
            length = -1;
        }
    }

    /// <summary>
    /// Whether every operand of <paramref name="e"/> views its buffer exactly as the chain's earlier calls do: then
    /// element i of a block is element i of every call, and running the chain block by block changes no result.
    /// </summary>
    private static bool Consistent(KernelEntry e, Dictionary<Storage, (int Offset, int Numel)> views, bool commit)
    {
        foreach (var o in e.Views)
        {
            if (o.Storage is null) continue;
            if (views.TryGetValue(o.Storage, out var seen))
            {
                if (seen != (o.Offset, o.Numel)) return false;
            }
            else if (commit) views[o.Storage] = (o.Offset, o.Numel);
        }
        return true;
    }

    public void Run()
    {
        foreach (var segment in _segments) segment.Run();
    }

    public void Dispose()
    {
        foreach (var segment in _segments) segment.Dispose();
    }

    /// <summary>Why device graphs were given up for some segments (the first reason), or null while every capture succeeded.</summary>
    public string? GraphFailure => _segments.Select(s => s.Failure).FirstOrDefault(f => f is not null);

    /// <summary>
    /// Kernels between two host actions (or one host action), captured as one graph where the backend can. A capture
    /// that fails (the driver refuses an operation in it, or instantiating or launching the graph fails) runs nothing:
    /// the segment then runs its kernels one by one, now and at every later replay, and keeps the reason.
    /// </summary>
    private sealed class Segment(TraceEntry[] entries, IGraphCapture? capture) : IDisposable
    {
        public ICapturedGraph? Graph { get; private set; }
        public string? Failure { get; private set; }

        public void Run()
        {
            if (capture is not null && Graph is null && TryCapture()) return;
            if (Graph is not null)
            {
                Graph.Launch();
                return;
            }
            foreach (var entry in entries) entry.Run();
        }

        /// <summary>
        /// Captures the segment (capture records without running) and launches the graph: true when that worked. On
        /// failure nothing has run (a failed launch enqueues nothing) and the segment gives up graphs.
        /// </summary>
        private bool TryCapture()
        {
            Exception? failure = null;
            ICapturedGraph? graph = null;
            try
            {
                capture!.BeginCapture();
                try { foreach (var entry in entries) entry.Run(); }
                catch (Exception e) { failure = e; }
                // The stream stops capturing even when this throws; the first failure is the one to report.
                try { graph = capture.EndCapture(); }
                catch (Exception e) { failure ??= e; }
                if (failure is null)
                {
                    graph!.Launch();
                    Graph = graph;
                    return true;
                }
            }
            catch (Exception e) { failure ??= e; }
            if (failure is OutOfMemoryException) throw failure;
            graph?.Dispose();
            Failure = $"{failure.GetType().Name}: {failure.Message}";
            capture = null;
            return false;
        }

        public void Dispose()
        {
            Graph?.Dispose();
            Graph = null;
        }
    }
}
