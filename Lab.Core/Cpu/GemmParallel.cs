namespace Lab.Core.Cpu;

/// <summary>
/// A tiny persistent worker pool for GEMM. Parallel.For allocates and schedules through the shared thread pool;
/// a matrix product only needs "run parts 1..T-1 of this job and tell me when done", which a handful of parked
/// threads and two events do without allocating. The caller runs part 0 itself. One job runs at a time;
/// a call that finds the pool busy (another thread's GEMM, or a GEMM issued from inside a worker) simply
/// runs single-threaded, so there is no deadlock and no queue.
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

    private static readonly Lock s_gate = new();
    private static readonly ManualResetEventSlim s_done = new(false);
    private static Worker[] s_workers = [];
    private static Job s_job;
    private static int s_pending;

    /// <summary>Runs <paramref name="job"/> on job.Parts threads (the caller included); false if the pool is busy.</summary>
    public static bool TryRun(in Job job)
    {
        if (job.Parts <= 1)
        {
            RunPart(job, 0);
            return true;
        }
        if (!s_gate.TryEnter()) return false;
        try
        {
            EnsureWorkers(job.Parts - 1);
            s_job = job;
            s_done.Reset();
            Volatile.Write(ref s_pending, job.Parts - 1);
            for (int t = 1; t < job.Parts; t++) s_workers[t - 1].Start(t);
            RunPart(s_job, 0);
            s_done.Wait();
            return true;
        }
        finally
        {
            s_gate.Exit();
        }
    }

    /// <summary>Splits [0, len) into parts slices whose boundaries are multiples of unit.</summary>
    public static (int Start, int End) Slice(int len, int unit, int parts, int part)
    {
        int units = (len + unit - 1) / unit;
        int start = (int)((long)units * part / parts) * unit;
        int end = (int)((long)units * (part + 1) / parts) * unit;
        return (Math.Min(start, len), Math.Min(end, len));
    }

    internal static void RunPart(in Job job, int part)
    {
        if (job.Batch > 1)
        {
            var (first, last) = Slice(job.Batch, 1, job.Parts, part);
            for (int i = first; i < last; i++)
                Product(job, job.M, job.N, Shift(job.A, i * job.StrideA), Shift(job.B, i * job.StrideB), job.C + i * job.StrideC);
            return;
        }
        if (job.SplitN)
        {
            var (j0, j1) = Slice(job.N, job.Kernel.NR, job.Parts, part);
            if (j1 > j0) Product(job, job.M, j1 - j0, job.A, job.B.Offset(0, j0), job.C + j0);
        }
        else
        {
            var (i0, i1) = Slice(job.M, job.Kernel.MR, job.Parts, part);
            if (i1 > i0) Product(job, i1 - i0, job.N, job.A.Offset(i0, 0), job.B, job.C + i0 * job.Ldc);
        }
    }

    private static void Product(in Job job, int m, int n, GemmMatrix a, GemmMatrix b, float* c)
    {
        if (job.Small) GemmSmall.Run(m, n, job.K, job.Alpha, a, b, job.Beta, c, job.Ldc);
        else GemmDriver.Run(job.Kernel, m, n, job.K, job.Alpha, a, b, job.Beta, c, job.Ldc);
    }

    private static GemmMatrix Shift(GemmMatrix x, nint offset) => new(x.Ptr + offset, x.RowStride, x.ColStride);

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        var grown = new Worker[count];
        Array.Copy(s_workers, grown, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) grown[i] = new Worker(i + 1);
        s_workers = grown;
    }

    private static void PartDone()
    {
        if (Interlocked.Decrement(ref s_pending) == 0) s_done.Set();
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _go = new(false);
        private int _part;

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"GenLab GEMM worker {id}" };
            thread.Start();
        }

        public void Start(int part)
        {
            _part = part;
            _go.Set();
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                _go.Reset();
                RunPart(s_job, _part);
                PartDone();
            }
        }
    }
}
