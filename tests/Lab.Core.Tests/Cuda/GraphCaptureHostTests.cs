using Lab.Core.Cuda;

namespace Lab.Core.Tests.Cuda;

/// <summary>
/// The host side of CUDA graph capture, without a GPU: the capture state machine against a fake stream, and the
/// allocator's graph pools against fake device memory (no driver call is made). The GPU side is in CudaGraphCases.
/// </summary>
public class GraphCaptureHostTests
{
    private static readonly Device Gpu = Device.Cuda();

    /// <summary>Records the driver calls a capture makes; each can be told to fail.</summary>
    private sealed class FakeStream : IStreamCapture
    {
        public readonly List<string> Calls = [];
        public bool CapturedElsewhere, FailEnd, FailInstantiate;
        private int _next = 100;

        public bool IsCapturing => CapturedElsewhere;
        public void Begin() => Calls.Add("begin");

        public nint End()
        {
            Calls.Add("end");
            if (FailEnd) throw new CudaException("cuStreamEndCapture failed: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED (901)");
            return _next++;
        }

        public nint Instantiate(nint graph)
        {
            Calls.Add($"instantiate {graph}");
            if (FailInstantiate) throw new CudaException("cuGraphInstantiateWithFlags failed");
            return graph + 1000;
        }

        public void Launch(nint exec) => Calls.Add($"launch {exec}");
        public void Destroy(nint graph, nint exec) => Calls.Add($"destroy {graph} {exec}");
    }

    /// <summary>Hands out fresh addresses 1 MiB apart and remembers whether each request came during a capture.</summary>
    private sealed class FakeMemory : IDeviceMemory
    {
        public readonly List<(ulong Ptr, bool Capturing)> Allocations = [];
        public bool OutOfMemory;
        private ulong _next = 1 << 20;

        public int Allocate(long bytes, bool capturing, out ulong ptr)
        {
            ptr = 0;
            if (OutOfMemory) return CudaDriver.CUDA_ERROR_OUT_OF_MEMORY;
            ptr = _next;
            _next += 1 << 20;
            Allocations.Add((ptr, capturing));
            return 0;
        }

        public void Free(ulong ptr) { }
    }

    private static (GraphRecorder Recorder, FakeStream Stream, CudaAllocator Allocator, FakeMemory Memory) Setup(Action? synchronize = null)
    {
        var memory = new FakeMemory();
        var allocator = new CudaAllocator(synchronize ?? (() => { }), 80L << 30, memory);
        var stream = new FakeStream();
        return (new GraphRecorder(stream, allocator, Gpu), stream, allocator, memory);
    }

    [Fact]
    public void CapturesDoNotNest()
    {
        var (recorder, stream, _, _) = Setup();
        recorder.Begin();
        var e = Assert.Throws<InvalidOperationException>(recorder.Begin);
        Assert.Equal("cuda:0: BeginCapture was called while a capture is already running (captures do not nest); call EndCapture first.", e.Message);
        Assert.Equal(["begin"], stream.Calls);
        Assert.True(recorder.IsCapturing); // the first capture is untouched
    }

    [Fact]
    public void EndCaptureWithoutBeginIsAnError()
    {
        var (recorder, stream, _, _) = Setup();
        var e = Assert.Throws<InvalidOperationException>(() => recorder.End());
        Assert.Equal("cuda:0: EndCapture was called without a BeginCapture.", e.Message);
        recorder.Begin();
        recorder.End().Dispose();
        Assert.Throws<InvalidOperationException>(() => recorder.End()); // and again after a complete capture
        Assert.Equal(1, stream.Calls.Count(c => c == "end"));
    }

    [Fact]
    public void AGraphLaunchesItsExecutableUntilDisposed()
    {
        var (recorder, stream, _, _) = Setup();
        recorder.Begin();
        var graph = recorder.End();
        Assert.False(recorder.IsCapturing);
        graph.Launch();
        graph.Launch();
        graph.Dispose();
        graph.Dispose(); // once only
        Assert.Equal(["begin", "end", "instantiate 100", "launch 1100", "launch 1100", "destroy 100 1100"], stream.Calls);
        Assert.Throws<ObjectDisposedException>(graph.Launch);
    }

    [Fact]
    public void WhatACaptureCannotHoldThrowsOnlyWhileCapturing()
    {
        var (recorder, _, _, _) = Setup();
        recorder.ThrowIfCapturing("Download (ToArray, Item)", "it waits");
        recorder.Begin();
        var e = Assert.Throws<InvalidOperationException>(() => recorder.ThrowIfCapturing("Download (ToArray, Item)", "reading waits for the GPU"));
        Assert.Equal("cuda:0: Download (ToArray, Item) was called while a CUDA graph is being captured: reading waits for the GPU. "
            + "Do it before BeginCapture or after EndCapture.", e.Message);
        using var graph = recorder.End();
        recorder.ThrowIfCapturing("Download (ToArray, Item)", "it waits");
    }

    [Fact]
    public void LaunchingAGraphInsideACaptureIsAnError()
    {
        var (recorder, stream, _, _) = Setup();
        recorder.Begin();
        using var first = recorder.End();
        recorder.Begin();
        var e = Assert.Throws<InvalidOperationException>(first.Launch);
        Assert.StartsWith("cuda:0: Launch of a captured graph was called while a CUDA graph is being captured", e.Message);
        Assert.DoesNotContain(stream.Calls, c => c.StartsWith("launch"));
    }

    [Fact]
    public void OnlyTheCapturingThreadMayUseTheDevice()
    {
        var (recorder, _, _, _) = Setup();
        recorder.ThrowIfOtherThread();
        recorder.Begin();
        recorder.ThrowIfOtherThread();
        Exception? fromOther = null;
        var t = new Thread(() => fromOther = Record.Exception(recorder.ThrowIfOtherThread));
        t.Start();
        t.Join();
        Assert.IsType<InvalidOperationException>(fromOther);
        Assert.Contains("would be recorded into it", fromOther!.Message);
        recorder.End().Dispose();
        t = new Thread(() => fromOther = Record.Exception(recorder.ThrowIfOtherThread));
        t.Start();
        t.Join();
        Assert.Null(fromOther);
    }

    [Fact]
    public void AStreamCapturedByOtherCodeCannotBeginACapture()
    {
        var (recorder, stream, allocator, _) = Setup();
        stream.CapturedElsewhere = true;
        var e = Assert.Throws<InvalidOperationException>(recorder.Begin);
        Assert.Contains("already being captured by other code", e.Message);
        Assert.False(recorder.IsCapturing);
        Assert.Empty(stream.Calls);
        allocator.Return(allocator.Rent(512, out _), 512); // the allocator was not left capturing
        Assert.Equal(0, allocator.Stats.GraphHeld);
    }

    [Fact]
    public void AnInvalidatedCaptureEndsAndReleasesItsBlocks()
    {
        var (recorder, stream, allocator, _) = Setup();
        recorder.Begin();
        allocator.Return(allocator.Rent(4000, out _), 4096); // a scratch block used by the capture
        Assert.Equal(4096, allocator.Stats.GraphHeld);
        stream.FailEnd = true;
        var e = Assert.Throws<CudaException>(() => recorder.End());
        Assert.Contains("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", e.Message);
        Assert.False(recorder.IsCapturing);
        Assert.Equal((0, 4096), (allocator.Stats.GraphHeld, allocator.Stats.Cached));
        stream.FailEnd = false;
        recorder.Begin(); // a new capture can start
        recorder.End().Dispose();
    }

    [Fact]
    public void AGraphThatFailsToInstantiateIsDestroyed()
    {
        var (recorder, stream, allocator, _) = Setup();
        stream.FailInstantiate = true;
        recorder.Begin();
        allocator.Return(allocator.Rent(512, out _), 512);
        Assert.Throws<CudaException>(() => recorder.End());
        Assert.Equal(["begin", "end", "instantiate 100", "destroy 100 0"], stream.Calls);
        Assert.Equal(0, allocator.Stats.GraphHeld);
        Assert.False(recorder.IsCapturing);
    }

    [Fact]
    public void BlocksFreedDuringACaptureServeOnlyThatCaptureUntilTheGraphIsDisposed()
    {
        var (recorder, _, allocator, memory) = Setup();
        recorder.Begin();
        ulong scratch = allocator.Rent(1000, out long size);
        allocator.Return(scratch, size);
        Assert.Equal(scratch, allocator.Rent(1000, out _)); // the same capture reuses it (its kernels run in order)
        allocator.Return(scratch, size);
        var graph = recorder.End();

        ulong after = allocator.Rent(1000, out _); // the graph still writes to scratch on every launch
        Assert.NotEqual(scratch, after);
        Assert.Equal(size, allocator.Stats.GraphHeld);
        allocator.Return(after, size);

        graph.Dispose();
        Assert.Equal(0, allocator.Stats.GraphHeld);
        var reused = new[] { allocator.Rent(1000, out _), allocator.Rent(1000, out _) };
        Assert.Contains(scratch, reused);
        Assert.Equal(2, memory.Allocations.Count); // scratch, after: nothing more came from the driver
    }

    [Fact]
    public void ALiveBlockOfAGraphIsHeldWhenItsStorageDiesBeforeTheGraph()
    {
        var (recorder, _, allocator, _) = Setup();
        ulong before = allocator.Rent(512, out _);  // an input made before the capture, freed during it
        recorder.Begin();
        ulong output = allocator.Rent(512, out _);  // an output made during the capture, alive after it
        allocator.Return(before, 512);
        var graph = recorder.End();
        allocator.Return(output, 512);
        Assert.Equal((1024, 0), (allocator.Stats.GraphHeld, allocator.Stats.Cached));
        ulong fresh = allocator.Rent(512, out _);
        Assert.DoesNotContain(fresh, new[] { before, output });
        graph.Dispose();
        Assert.Equal((0, 1024), (allocator.Stats.GraphHeld, allocator.Stats.Cached));
        allocator.Return(fresh, 512);
        Assert.Equal(1536, allocator.Stats.Cached);
    }

    [Fact]
    public void AnOutputThatOutlivesItsGraphReturnsToTheCache()
    {
        var (recorder, _, allocator, _) = Setup();
        recorder.Begin();
        ulong output = allocator.Rent(512, out _);
        recorder.End().Dispose();
        allocator.Return(output, 512);
        Assert.Equal((0, 512), (allocator.Stats.GraphHeld, allocator.Stats.Cached));
        Assert.Equal(output, allocator.Rent(512, out _));
    }

    [Fact]
    public void TheDriverIsToldWhichAllocationsHappenDuringACapture()
    {
        var (recorder, _, allocator, memory) = Setup();
        allocator.Rent(512, out _);
        recorder.Begin();
        allocator.Rent(512, out _);
        recorder.End().Dispose();
        allocator.Rent(512, out _);
        Assert.Equal([false, true, false], memory.Allocations.Select(a => a.Capturing));
    }

    [Fact]
    public void RunningOutOfMemoryDuringACaptureNeverWaitsForTheStream()
    {
        int syncs = 0;
        var (recorder, _, allocator, memory) = Setup(() => syncs++);
        recorder.Begin();
        memory.OutOfMemory = true;
        var e = Assert.Throws<CudaException>(() => allocator.Rent(1 << 20, out _));
        Assert.StartsWith("CUDA out of memory while capturing a graph: ", e.Message);
        Assert.Contains("bytes requested", e.Message);
        Assert.Equal(0, syncs);
        recorder.End().Dispose();
        Assert.Throws<CudaException>(() => allocator.Rent(1 << 20, out _));
        Assert.Equal(1, syncs); // outside a capture the cache is given back (after a sync) before giving up
    }
}
