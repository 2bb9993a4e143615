using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// Convolution as GEMM over im2col columns (see <see cref="Im2Col"/>), NCHW float32, weights K x (C / groups) x R x S;
/// with channel groups, every product is one GEMM per group over its block of rows (the im2col layout does not
/// change; "groups" elsewhere in this file are the weight gradient's accumulators).
/// The batch is cut into chunks of samples whose columns and GEMM rows fit in L2 together, so the GEMMs of small
/// feature maps are wide enough for the micro-kernels (MnistCnn's last layer has 9 output pixels per sample) and
/// large maps still stream through cache. Chunks are the parallel parts: the pool's threads claim them, each chunk
/// with single-threaded GEMMs (they find the pool busy) and per-thread workspaces; a batch of one leaves the
/// threading to GEMM. Tiny layers stay on the calling thread: waking a worker costs more than the digits CNN's
/// whole convolution. The plan (chunks, weight-gradient groups) depends on the shape only, so results are
/// bit-identical for any thread count.
/// </summary>
internal static unsafe class ConvGemm
{
    /// <summary>Floats of columns plus GEMM rows one chunk may use: 512 KiB, half of L2 per core here (tuned with `conv-quick`).</summary>
    internal static int ChunkFloats { get; set; } = 128 * 1024;

    /// <summary>Sends single-channel forward convolutions through im2col and GEMM too, instead of <see cref="DirectConv"/> (tests, benchmarks).</summary>
    internal static bool ForceGemm { get; set; }

    /// <summary>A convolution is split over threads only from this many multiply-adds.</summary>
    internal static long MinMacsForThreads { get; set; } = 1L << 19;

    /// <summary>Output maps of this many pixels make GEMMs wide enough one sample at a time.</summary>
    internal static int WideMap { get; set; } = 256;

    /// <summary>A parallel plan cuts the batch into at least this many chunks, so two threads stay balanced.</summary>
    private const int MinParallelChunks = 4;

    /// <summary>0 picks by shape (see <see cref="TransposeGradWeight"/>), 1 forces dy colsᵀ, 2 forces cols dyᵀ (tuning, tests).</summary>
    internal static int GradWeightOrientation { get; set; }

    /// <summary>Everything a part needs, as plain values and pointers (the workers read it from the caller's stack).</summary>
    private struct Job
    {
        public ConvGeometry G;
        public int Chunk, Chunks, Groups;
        public float* X, W, Bias, Y;  // forward: y = conv(x, w) + bias
        public float* Dy, Dx, Dw;     // gradients
        public float* Partials;       // weight gradient: one accumulator per group that cannot use dw
        public bool Transposed;       // weight gradient: accumulate dWᵀ (see TransposeGradWeight)
        public float* Indices;        // forward with ReLU and 2x2 max pooling: y and Indices are pooled
        public int PoolH, PoolW;
    }

    public static void Forward(float* x, float* w, float* bias, float* y, in ConvGeometry g)
    {
        if (DirectConv.Applies(g) && !ForceGemm)
        {
            DirectConv.Forward(x, w, bias, y, g);
            return;
        }
        var job = new Job { G = g, X = x, W = w, Bias = bias, Y = y };
        int threads = Plan(ref job);
        WorkerPool.Run(job.Chunks, threads, &ForwardChunk, &job);
    }

    /// <summary>Whether <see cref="ForwardReluMaxPool"/> takes this convolution and pool (DirectConvPool takes single-channel ones).</summary>
    public static bool FusesReluMaxPool(in ConvGeometry g, in PoolGeometry pool) =>
        Avx512F.IsSupported && Pooling.IsTwoByTwo(pool) && !DirectConv.Applies(g);

    /// <summary>
    /// The forward convolution, its bias, ReLU and a 2x2 stride-2 max pool: each chunk's GEMM output rows are pooled while
    /// they are in cache (the bias added as they are read), so the convolution's output is never written out and read
    /// back. y and indices are pooled, as <see cref="Pooling.ReluMax"/> of the unfused output, bit for bit.
    /// </summary>
    public static void ForwardReluMaxPool(float* x, float* w, float* bias, float* y, float* indices, in ConvGeometry g, in PoolGeometry pool)
    {
        var job = new Job { G = g, X = x, W = w, Bias = bias, Y = y, Indices = indices, PoolH = pool.OutH, PoolW = pool.OutW };
        int threads = Plan(ref job);
        WorkerPool.Run(job.Chunks, threads, &ForwardChunk, &job);
    }

    public static void GradInput(float* dy, float* w, float* dx, in ConvGeometry g)
    {
        var job = new Job { G = g, Dy = dy, W = w, Dx = dx };
        int threads = Plan(ref job);
        WorkerPool.Run(job.Chunks, threads, &GradInputChunk, &job);
    }

    /// <summary>
    /// dW = sum over chunks of dy colsᵀ. The chunks are split into a few groups (a fixed number for the shape), each
    /// summed in its own accumulator and the accumulators added in order, so two threads can work without sharing.
    /// </summary>
    public static void GradWeight(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        int kcrs = g.K * g.GroupCrs;
        var job = new Job { G = g, X = x, Dy = dy, Dw = dw, Transposed = TransposeGradWeight(g) };
        int threads = Plan(ref job);
        job.Groups = Parallel(g) ? Math.Min(job.Chunks, MinParallelChunks) : 1;
        // Group 0 accumulates straight into dw unless the product is computed transposed; other groups use partials.
        int own = job.Transposed ? 0 : 1;
        if (job.Groups > own) job.Partials = ConvBuffers.Partials((long)(job.Groups - own) * kcrs);
        WorkerPool.Run(job.Groups, threads, &GradWeightGroup, &job);
        if (job.Transposed) SumTransposed(job.Partials, job.Groups, g.C * g.R * g.S, g.K, dw);
        else
        {
            var sum = new Span<float>(dw, kcrs);
            for (int t = 1; t < job.Groups; t++)
                System.Numerics.Tensors.TensorPrimitives.Add(sum, new ReadOnlySpan<float>(job.Partials + (long)(t - 1) * kcrs, kcrs), sum);
        }
    }

    /// <summary>Fills in the chunking and returns the threads to use (1 for small layers).</summary>
    private static int Plan(ref Job job)
    {
        var g = job.G;
        int ohw = g.OutH * g.OutW;
        long perSample = (long)(g.C * g.R * g.S + g.K) * ohw;
        int chunk;
        if (g.IsPointwise && ohw >= 32) chunk = 1; // multiplies each sample's input in place: nothing to copy
        else if (ohw >= WideMap) chunk = 1;         // wide enough alone: no gather or scatter of the GEMM's rows
        else chunk = (int)Math.Clamp(ChunkFloats / Math.Max(perSample, 1), 1, Math.Max(g.N, 1));
        bool parallel = Parallel(g);
        if (parallel) chunk = Math.Min(chunk, (g.N + MinParallelChunks - 1) / MinParallelChunks);
        job.Chunk = chunk;
        job.Chunks = (g.N + chunk - 1) / chunk;
        return parallel ? Math.Min(Gemm.MaxThreads, job.Chunks) : 1;
    }

    private static bool Parallel(in ConvGeometry g) =>
        g.N >= 2 && (long)g.N * g.K * g.GroupCrs * g.OutH * g.OutW >= MinMacsForThreads;

    /// <summary>
    /// Whether to compute dWᵀ = cols dyᵀ (C R S x K) rather than dW = dy colsᵀ (K x C R S): the GEMM's N side is its
    /// 32-wide register tile, so the larger of K and C R S belongs there (MnistCnn's first layer: K = 32, C R S = 9).
    /// Grouped convolutions take dW = dy colsᵀ, one product per group into its block of dW.
    /// </summary>
    private static bool TransposeGradWeight(in ConvGeometry g) => g.Groups == 1 && GradWeightOrientation switch
    {
        1 => false,
        2 => true,
        _ => g.C * g.R * g.S < g.K,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardChunk(void* state, int chunk, int chunks)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S, gk = g.GroupK, gcrs = g.GroupCrs;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        int n = chunk * j.Chunk, b = Math.Min(j.Chunk, g.N - n), len = b * ohw;
        float* x = j.X + n * chw, y = j.Y + n * kohw;
        float* cols = x;
        if (!(b == 1 && g.IsPointwise))
        {
            cols = ConvBuffers.Cols((long)crs * len);
            Im2Col.Fill(x, b, g, cols, len);
        }
        // One sample's output is its K x OH OW block already; more are gathered in rows and scattered after.
        bool pooled = j.Indices is not null;
        float* output = b == 1 && !pooled ? y : ConvBuffers.Rows((long)g.K * len);
        for (int gi = 0; gi < g.Groups; gi++)
            Gemm.SgemmUnchecked(false, false, gk, len, gcrs, 1f, j.W + (long)gi * gk * gcrs, gcrs,
                cols + (long)gi * gcrs * len, len, 0f, output + (long)gi * gk * len, len);
        if (pooled)
        {
            // Row k of the output holds the chunk's samples' planes of channel k side by side.
            int planeOut = j.PoolH * j.PoolW;
            for (int i = 0; i < b; i++)
                for (int k = 0; k < g.K; k++)
                {
                    long at = ((long)(n + i) * g.K + k) * planeOut;
                    Pooling.ReluMax2x2BiasPlane(output + (long)k * len + i * ohw, j.Bias is null ? null : j.Bias + k, g.OutW, j.PoolH, j.PoolW,
                        j.Y + at, j.Indices + at);
                }
            return;
        }
        if (b == 1)
        {
            if (j.Bias is not null) RowOps.CopyAddBias(y, y, new RowOps.Steps(0, ohw, 0, ohw), 1, g.K, ohw, j.Bias);
            return;
        }
        Im2Col.Scatter(output, g.K, ohw, b, j.Bias, y, kohw);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradInputChunk(void* state, int chunk, int chunks)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S, gk = g.GroupK, gcrs = g.GroupCrs;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        int n = chunk * j.Chunk, b = Math.Min(j.Chunk, g.N - n), len = b * ohw;
        float* dy = j.Dy + n * kohw, dx = j.Dx + n * chw;
        if (b > 1)
        {
            float* gathered = ConvBuffers.Rows((long)g.K * len);
            Im2Col.Gather(dy, kohw, g.K, ohw, b, gathered);
            dy = gathered;
        }
        // A pointwise convolution's columns are dx itself.
        bool inPlace = b == 1 && g.IsPointwise;
        float* cols = inPlace ? dx : ConvBuffers.Cols((long)crs * len);
        for (int gi = 0; gi < g.Groups; gi++)
            Gemm.SgemmUnchecked(true, false, gcrs, len, gk, 1f, j.W + (long)gi * gk * gcrs, gcrs,
                dy + (long)gi * gk * len, len, 0f, cols + (long)gi * gcrs * len, len);
        if (inPlace) return;
        if (g.StrideH == 1 && g.StrideW == 1 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Im2Col.SumStride1(cols, len, b, g, dx);
        else
        {
            new Span<float>(dx, checked((int)(b * chw))).Clear();
            Im2Col.Accumulate(cols, len, b, g, dx);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradWeightGroup(void* state, int group, int groups)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S, gk = g.GroupK, gcrs = g.GroupCrs;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        int own = j.Transposed ? 0 : 1;
        float* acc = group < own ? j.Dw : j.Partials + (long)(group - own) * g.K * gcrs;
        var (first, end) = WorkerPool.Slice(j.Chunks, 1, groups, group);
        if (first == end) new Span<float>(acc, g.K * gcrs).Clear();
        for (int chunk = first; chunk < end; chunk++)
        {
            int n = chunk * j.Chunk, b = Math.Min(j.Chunk, g.N - n), len = b * ohw;
            float* x = j.X + n * chw, dy = j.Dy + n * kohw;
            float* cols = x;
            if (!(b == 1 && g.IsPointwise))
            {
                cols = ConvBuffers.Cols((long)crs * len);
                Im2Col.Fill(x, b, g, cols, len);
            }
            if (b > 1)
            {
                float* gathered = ConvBuffers.Rows((long)g.K * len);
                Im2Col.Gather(dy, kohw, g.K, ohw, b, gathered);
                dy = gathered;
            }
            // The group's first chunk overwrites its accumulator, later ones add to it.
            float beta = chunk == first ? 0f : 1f;
            if (j.Transposed) Gemm.SgemmUnchecked(false, true, crs, g.K, len, 1f, cols, len, dy, len, beta, acc, g.K);
            else
                for (int gi = 0; gi < g.Groups; gi++)
                    Gemm.SgemmUnchecked(false, true, gk, gcrs, len, 1f, dy + (long)gi * gk * len, len,
                        cols + (long)gi * gcrs * len, len, beta, acc + (long)gi * gk * gcrs, gcrs);
        }
    }

    /// <summary>dw[k, j] = sum over groups of partials[group][j, k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumTransposed(float* partials, int groups, int rows, int cols, float* dw)
    {
        long size = (long)rows * cols;
        for (int j = 0; j < rows; j++)
            for (int k = 0; k < cols; k++)
            {
                float sum = 0;
                for (int t = 0; t < groups; t++) sum += partials[t * size + (long)j * cols + k];
                dw[(long)k * rows + j] = sum;
            }
    }
}
