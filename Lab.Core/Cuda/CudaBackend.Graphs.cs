using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>
/// CUDA graphs: between <see cref="BeginCapture"/> and <see cref="EndCapture"/> the kernels, GEMMs, device copies and
/// memsets this backend queues are recorded on its stream instead of running, and the returned graph replays them
/// with one cuGraphLaunch. What a capture cannot hold (a wait for the GPU, a host upload) throws before it reaches
/// the driver; see Lab.Core/Cuda/README.md.
/// </summary>
public sealed unsafe partial class CudaBackend : IGraphCapture
{
    private GraphRecorder? _graphs;

    /// <summary>Whether this backend is recording a graph now.</summary>
    public bool IsCapturing => _graphs?.IsCapturing ?? false;

    /// <summary>
    /// Starts recording what this backend queues into a graph (thread-local capture mode: only the calling thread is
    /// held to the capture's rules, so other threads using other devices are not failed by it). Throws when a capture
    /// is already running, or when the driver or cuBLAS cannot capture.
    /// </summary>
    public void BeginCapture()
    {
        Enter();
        if (CudaDriver.GraphsMissing is { } missing) throw new CudaException($"{Device}: CUDA graphs are not available: {missing}.");
        if (CuBlas.cublasSetWorkspace is null)
            throw new CudaException($"{Device}: CUDA graphs are not available: cuBLAS ({CuBlas.LoadedFrom}) has no cublasSetWorkspace_v2, so its GEMMs would allocate inside the capture.");
        (_graphs ??= new GraphRecorder(new StreamCapture(this), Allocator, Device)).Begin();
    }

    /// <summary>
    /// Stops recording and returns the graph, ready to <see cref="ICapturedGraph.Launch"/>. Nothing recorded has run
    /// yet. The stream stops recording even when this throws (a capture invalidated by the driver).
    /// </summary>
    public ICapturedGraph EndCapture()
    {
        Enter();
        return (_graphs ?? throw new InvalidOperationException($"{Device}: EndCapture was called without a BeginCapture.")).End();
    }

    private void ThrowIfCapturing(string operation, string why) => _graphs?.ThrowIfCapturing(operation, why);

    // cuBLAS takes its workspace from the driver when it needs one, which a capture cannot record; given one of
    // its own it never allocates. NVIDIA's recommended sizes: 32 MiB on Hopper and later, 4 MiB before. It is set
    // for every GEMM, captured or not, so that eager and graph runs choose the same algorithms.
    private void SetBlasWorkspace(nint blas, int computeMajor)
    {
        if (CuBlas.cublasSetWorkspace is null) return;
        long bytes = computeMajor >= 9 ? 32L << 20 : 4L << 20;
        ulong workspace;
        CudaDriver.Check(CudaDriver.cuMemAlloc(&workspace, (nuint)bytes), "cuMemAlloc (cuBLAS workspace)");
        CuBlas.Check(CuBlas.cublasSetWorkspace(blas, workspace, (nuint)bytes), "cublasSetWorkspace_v2");
    }

    /// <summary>The capture calls on this backend's stream, through libcuda.</summary>
    private sealed class StreamCapture(CudaBackend backend) : IStreamCapture
    {
        public bool IsCapturing
        {
            get
            {
                int status;
                CudaDriver.Check(CudaDriver.cuStreamIsCapturing(backend._stream, &status), "cuStreamIsCapturing");
                return status != CudaDriver.CU_STREAM_CAPTURE_STATUS_NONE;
            }
        }

        public void Begin()
            => CudaDriver.Check(CudaDriver.cuStreamBeginCapture(backend._stream, CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture_v2");

        public nint End()
        {
            nint graph;
            int r = CudaDriver.cuStreamEndCapture(backend._stream, &graph);
            if (r != 0)
            {
                if (graph != 0) CudaDriver.cuGraphDestroy(graph);
                throw new CudaException($"cuStreamEndCapture failed: {CudaDriver.Describe(r)} (the capture was invalidated by an operation "
                    + "it cannot record, made on the capturing thread or queued on the stream by other code; the stream is no longer capturing)");
            }
            return graph;
        }

        public nint Instantiate(nint graph)
        {
            nint exec;
            CudaDriver.Check(CudaDriver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
            return exec;
        }

        public void Launch(nint exec)
        {
            backend.Enter();
            CudaDriver.Check(CudaDriver.cuGraphLaunch(exec, backend._stream), "cuGraphLaunch");
        }

        public void Destroy(nint graph, nint exec)
        {
            backend.Enter();
            if (exec != 0) CudaDriver.Check(CudaDriver.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
            CudaDriver.Check(CudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }
}
