namespace Lab.Core.Cpu;

/// <summary>
/// How a GEMM splits over the <see cref="WorkerPool"/>: whole products of a batch per thread, or column (row)
/// slices of one product. A call that finds the pool busy (another thread's kernel, or a GEMM issued from inside
/// a running part) simply runs single-threaded.
/// </summary>
internal static unsafe class GemmParallel
{
    /// <summary>One part of a job: everything a worker needs, as plain values and pointers.</summary>
    internal struct Job
    {
        public GemmKernel Kernel;
        public int M, N, K, Parts, Batch;
        public float Alpha, Beta;
        public GemmMatrix A, B;
        public float* C;
        public nint Ldc, StrideA, StrideB, StrideC;
        public bool SplitN; // otherwise split M; ignored when Batch > 1 (then parts take whole products)
        public bool Small;  // run GemmSmall (no packing) instead of GemmDriver
    }

    /// <summary>Runs <paramref name="job"/> on job.Parts threads (the caller included); false if the pool is busy.</summary>
    public static bool TryRun(in Job job)
    {
        if (job.Parts <= 1)
        {
            RunPart(job, 0);
            return true;
        }
        Job copy = job; // the workers read it through a pointer while this frame waits for them
        return WorkerPool.TryRun(job.Parts, job.Parts, &RunPooledPart, &copy);
    }

    private static void RunPooledPart(void* job, int part, int parts) => RunPart(*(Job*)job, part);

    internal static void RunPart(in Job job, int part)
    {
        if (job.Batch > 1)
        {
            var (first, last) = WorkerPool.Slice(job.Batch, 1, job.Parts, part);
            for (int i = first; i < last; i++)
                Product(job, job.M, job.N, Shift(job.A, i * job.StrideA), Shift(job.B, i * job.StrideB), job.C + i * job.StrideC);
            return;
        }
        if (job.SplitN)
        {
            var (j0, j1) = WorkerPool.Slice(job.N, job.Kernel.NR, job.Parts, part);
            if (j1 > j0) Product(job, job.M, j1 - j0, job.A, job.B.Offset(0, j0), job.C + j0);
        }
        else
        {
            var (i0, i1) = WorkerPool.Slice(job.M, job.Kernel.MR, job.Parts, part);
            if (i1 > i0) Product(job, i1 - i0, job.N, job.A.Offset(i0, 0), job.B, job.C + i0 * job.Ldc);
        }
    }

    private static void Product(in Job job, int m, int n, GemmMatrix a, GemmMatrix b, float* c)
    {
        if (job.Small) GemmSmall.Run(m, n, job.K, job.Alpha, a, b, job.Beta, c, job.Ldc);
        else GemmDriver.Run(job.Kernel, m, n, job.K, job.Alpha, a, b, job.Beta, c, job.Ldc);
    }

    private static GemmMatrix Shift(GemmMatrix x, nint offset) => new(x.Ptr + offset, x.RowStride, x.ColStride);
}
