using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// Convolution as GEMM over im2col columns (see <see cref="Im2Col"/>), NCHW float32, weights K x C x R x S.
/// The batch is cut into chunks of samples whose columns and outputs fit in L2 together, so the GEMMs of small
/// feature maps are wide enough for the micro-kernels (MnistCnn's last layer has 9 output pixels per sample),
/// and large maps still stream through cache one sample at a time. Two or more threads take contiguous halves of
/// the batch, each with its own single-threaded GEMMs and workspaces (the GEMMs find the worker pool busy);
/// a batch of one leaves the threading to GEMM. Tiny layers stay on the calling thread: waking a worker costs
/// more than the digits CNN's whole convolution.
/// </summary>
internal static unsafe class ConvGemm
{
    /// <summary>Floats of columns plus GEMM rows one chunk may use (tuned with `conv-quick`; L2 is 1 MiB per core here).</summary>
    internal static int ChunkFloats { get; set; } = 64 * 1024;

    /// <summary>A convolution is split over threads only from this many multiply-adds.</summary>
    internal static long MinMacsForThreads { get; set; } = 1L << 19;

    private enum Pass { Forward, GradInput, GradWeight }

    /// <summary>Everything a part needs, as plain values and pointers (the workers read it from the caller's stack).</summary>
    private struct Job
    {
        public ConvGeometry G;
        public int Chunk;
        public float* X, W, Bias, Y;  // forward: y = conv(x, w) + bias
        public float* Dy, Dx, Dw;     // gradients
        public float* Partials;       // weight gradient: parts - 1 extra K x C R S accumulators
    }

    public static void Forward(float* x, float* w, float* bias, float* y, in ConvGeometry g)
    {
        var job = new Job { G = g, X = x, W = w, Bias = bias, Y = y };
        Run(ref job, Pass.Forward, &ForwardPart);
    }

    public static void GradInput(float* dy, float* w, float* dx, in ConvGeometry g)
    {
        var job = new Job { G = g, Dy = dy, W = w, Dx = dx };
        Run(ref job, Pass.GradInput, &GradInputPart);
    }

    public static void GradWeight(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        var job = new Job { G = g, X = x, Dy = dy, Dw = dw };
        int parts = Parts(g);
        int crs = g.C * g.R * g.S, kcrs = g.K * crs;
        if (parts > 1) job.Partials = ConvBuffers.Partials((long)(parts - 1) * kcrs);
        job.Chunk = Chunk(g, Pass.GradWeight, parts);
        if (parts > 1 && WorkerPool.TryRun(parts, &GradWeightPart, &job))
        {
            var sum = new Span<float>(dw, kcrs);
            for (int t = 1; t < parts; t++)
                System.Numerics.Tensors.TensorPrimitives.Add(sum, new ReadOnlySpan<float>(job.Partials + (long)(t - 1) * kcrs, kcrs), sum);
            return;
        }
        GradWeightPart(&job, 0, 1);
    }

    private static void Run(ref Job job, Pass pass, delegate*<void*, int, int, void> part)
    {
        int parts = Parts(job.G);
        job.Chunk = Chunk(job.G, pass, parts);
        fixed (Job* state = &job)
            if (parts <= 1 || !WorkerPool.TryRun(parts, part, state)) part(state, 0, 1);
    }

    private static int Parts(in ConvGeometry g)
    {
        long macs = (long)g.N * g.K * g.C * g.R * g.S * g.OutH * g.OutW;
        return g.N < 2 || macs < MinMacsForThreads ? 1 : Math.Min(Gemm.MaxThreads, g.N);
    }

    /// <summary>
    /// Samples per GEMM. A 1x1, stride 1, unpadded layer whose maps are not tiny multiplies each sample's input in
    /// place, so its chunk is one sample and nothing is copied.
    /// </summary>
    private static int Chunk(in ConvGeometry g, Pass pass, int parts)
    {
        int ohw = g.OutH * g.OutW;
        if (IsPointwise(g) && ohw >= 32) return 1;
        long perSample = (long)(g.C * g.R * g.S + g.K) * ohw;
        int perPart = (g.N + parts - 1) / Math.Max(parts, 1);
        return (int)Math.Clamp(ChunkFloats / Math.Max(perSample, 1), 1, Math.Max(perPart, 1));
    }

    private static bool IsPointwise(in ConvGeometry g) =>
        g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0;

    private static void ForwardPart(void* state, int part, int parts)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        var (first, end) = WorkerPool.Slice(g.N, 1, parts, part);
        for (int n = first; n < end; n += j.Chunk)
        {
            int b = Math.Min(j.Chunk, end - n), len = b * ohw;
            float* x = j.X + n * chw, y = j.Y + n * kohw;
            float* cols = x;
            if (!(b == 1 && IsPointwise(g)))
            {
                cols = ConvBuffers.Cols((long)crs * len);
                Im2Col.Fill(x, b, g, cols, len);
            }
            if (b == 1)
            {
                Gemm.SgemmUnchecked(false, false, g.K, ohw, crs, 1f, j.W, crs, cols, ohw, 0f, y, ohw);
                if (j.Bias is not null)
                    for (int k = 0; k < g.K; k++) RowOps.AddConstant(y + k * ohw, j.Bias[k], y + k * ohw, ohw);
                continue;
            }
            float* rows = ConvBuffers.Rows((long)g.K * len);
            Gemm.SgemmUnchecked(false, false, g.K, len, crs, 1f, j.W, crs, cols, len, 0f, rows, len);
            Im2Col.Scatter(rows, g.K, ohw, b, j.Bias, y, kohw);
        }
    }

    private static void GradInputPart(void* state, int part, int parts)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        var (first, end) = WorkerPool.Slice(g.N, 1, parts, part);
        for (int n = first; n < end; n += j.Chunk)
        {
            int b = Math.Min(j.Chunk, end - n), len = b * ohw;
            float* dy = j.Dy + n * kohw, dx = j.Dx + n * chw;
            if (b > 1)
            {
                float* gathered = ConvBuffers.Rows((long)g.K * len);
                Im2Col.Gather(dy, kohw, g.K, ohw, b, gathered);
                dy = gathered;
            }
            if (b == 1 && IsPointwise(g))
            {
                Gemm.SgemmUnchecked(true, false, crs, ohw, g.K, 1f, j.W, crs, dy, ohw, 0f, dx, ohw);
                continue;
            }
            float* cols = ConvBuffers.Cols((long)crs * len);
            Gemm.SgemmUnchecked(true, false, crs, len, g.K, 1f, j.W, crs, dy, len, 0f, cols, len);
            new Span<float>(dx, checked((int)(b * chw))).Clear();
            Im2Col.Accumulate(cols, len, b, g, dx);
        }
    }

    private static void GradWeightPart(void* state, int part, int parts)
    {
        ref Job j = ref *(Job*)state;
        var g = j.G;
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S;
        long chw = (long)g.C * g.H * g.W, kohw = (long)g.K * ohw;
        float* acc = part == 0 ? j.Dw : j.Partials + (long)(part - 1) * g.K * crs;
        var (first, end) = WorkerPool.Slice(g.N, 1, parts, part);
        if (first == end) new Span<float>(acc, g.K * crs).Clear();
        for (int n = first; n < end; n += j.Chunk)
        {
            int b = Math.Min(j.Chunk, end - n), len = b * ohw;
            float* x = j.X + n * chw, dy = j.Dy + n * kohw;
            float* cols = x;
            if (!(b == 1 && IsPointwise(g)))
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
            // dW (+)= dy colsᵀ: the first chunk overwrites, later ones accumulate.
            Gemm.SgemmUnchecked(false, true, g.K, crs, len, 1f, dy, len, cols, len, n == first ? 0f : 1f, acc, crs);
        }
    }
}
