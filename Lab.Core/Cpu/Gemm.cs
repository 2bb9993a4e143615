namespace Lab.Core.Cpu;

/// <summary>
/// Single-precision general matrix multiply for the CPU backend: C = alpha * op(A) * op(B) + beta * C,
/// row-major, op(X) = X or X^T. Packed, cache-blocked and register-blocked (see <see cref="GemmDriver"/>),
/// with AVX-512, AVX2/FMA and scalar micro-kernels, a no-packing path for small products and a persistent
/// worker pool for large ones. Allocation-free in steady state.
/// </summary>
public static unsafe class Gemm
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>Upper bound on the threads one call may use (the caller's thread included).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Gemm.MaxThreads must be at least 1.");
    }

    /// <summary>Forces a slower micro-kernel on this thread (tests, benchmarks); null picks the best the CPU has.</summary>
    internal static GemmIsa? ForcedIsa { get => t_forcedIsa; set => t_forcedIsa = value; }

    [ThreadStatic] private static GemmIsa? t_forcedIsa; // per thread, so a test forcing scalar slows no one else

    /// <summary>Skips the no-packing path on this thread, so tests reach the packed path with small shapes too.</summary>
    internal static bool ForcePackedPath { get => t_forcePacked; set => t_forcePacked = value; }

    [ThreadStatic] private static bool t_forcePacked;

    /// <summary>Each extra thread must get at least this many multiply-adds, or waking it costs more than it saves.</summary>
    internal static long MinMacsPerThread { get; set; } = 1L << 20;

    /// <summary>Products up to this many multiply-adds skip packing (see <see cref="GemmSmall"/>); 0 disables.</summary>
    internal static long SmallPathMaxMacs { get; set; } = 1L << 18;

    /// <summary>Products no deeper than this skip packing whatever their size; -1 disables.</summary>
    internal static int SmallPathMaxDepth { get; set; } = 32;

    /// <summary>C[M x N] = alpha * op(A) * op(B) + beta * C. With beta == 0, C is overwritten (NaNs included).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        GemmArgs.Check("Sgemm", transA, transB, m, n, k, a.Length, lda, 0, b.Length, ldb, 0, c.Length, ldc, 0, 1);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>
    /// <paramref name="batch"/> independent products; matrix i of A starts at i * strideA (likewise B, C).
    /// A stride of 0 reuses the same A (or B) for every product.
    /// </summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batch)
    {
        GemmArgs.Check("SgemmBatched", transA, transB, m, n, k,
            a.Length, lda, strideA, b.Length, ldb, strideB, c.Length, ldc, strideC, batch);
        if (batch == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            int threads = Threads((long)m * n * k * batch);
            if (batch >= threads && threads > 1 && !TrivialProduct(m, n, k, alpha))
            {
                // Whole products per thread: no split overhead, and each thread packs only its own operands.
                var job = NewJob(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, threads);
                job.Batch = batch;
                job.StrideA = (nint)strideA; job.StrideB = (nint)strideB; job.StrideC = (nint)strideC;
                if (GemmParallel.TryRun(job)) return;
            }
            for (int i = 0; i < batch; i++)
                Multiply(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb,
                    beta, pc + i * strideC, ldc);
        }
    }

    /// <summary>
    /// Sgemm on raw pointers for kernels that have already proven their operands in bounds (the convolutions,
    /// which multiply slices of their own workspaces many times per call).
    /// </summary>
    internal static void SgemmUnchecked(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    private static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (TrivialProduct(m, n, k, alpha))
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        long macs = (long)m * n * k;
        int threads = Threads(macs);
        var job = NewJob(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
        if (threads > 1 && GemmParallel.TryRun(job)) return;
        GemmParallel.RunPart(job with { Parts = 1 }, 0);
    }

    private static bool TrivialProduct(int m, int n, int k, float alpha) => k == 0 || alpha == 0f;

    private static int Threads(long macs) =>
        (int)Math.Clamp(macs / MinMacsPerThread, 1, s_maxThreads);

    /// <summary>
    /// Whether the no-packing path wins (measured with `gemm-quick tune`): small products, where packing and edge
    /// tiles cost as much as the math, and shallow ones (k up to 32, the im2col of a first conv layer), where the
    /// kernel's C update dominates and packing A would double the memory traffic.
    /// </summary>
    private static bool UseSmallPath(GemmKernel kernel, int m, int n, int k) =>
        kernel.Isa == GemmIsa.Avx512 && !t_forcePacked && ((long)m * n * k <= SmallPathMaxMacs || k <= SmallPathMaxDepth);

    private static GemmParallel.Job NewJob(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int parts) => new()
    {
        Kernel = GemmKernel.For(ForcedIsa ?? GemmKernel.Best),
        Small = UseSmallPath(GemmKernel.For(ForcedIsa ?? GemmKernel.Best), m, n, k),
        M = m, N = n, K = k, Alpha = alpha, Beta = beta, Parts = parts, Batch = 1,
        A = GemmMatrix.Of(a, lda, transA),
        B = GemmMatrix.Of(b, ldb, transB),
        C = c, Ldc = ldc,
        // Splitting N makes every thread pack all of A; splitting M, all of B. Duplicate the smaller one.
        SplitN = n >= m,
    };

    /// <summary>C = beta * C, the whole product when k == 0 or alpha == 0; beta == 0 writes zeros.</summary>
    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (nint)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }
}
