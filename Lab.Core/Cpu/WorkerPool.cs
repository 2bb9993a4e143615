namespace Lab.Core.Cpu;

/// <summary>
/// The CPU kernels' one persistent worker pool (GEMM, convolution). Parallel.For allocates and schedules through
/// the shared thread pool; a kernel only needs "run parts 1..T-1 of this body and tell me when done", which a
/// handful of parked threads and two events do without allocating. The caller runs part 0 itself.
/// One job runs at a time: a call that finds the pool busy (another thread's kernel, or a kernel issued from
/// inside a running part, such as the GEMM inside a batch-parallel convolution) returns false and the caller
/// runs single-threaded, so there is no deadlock, no queue and no oversubscription of the cores.
/// </summary>
internal static unsafe class WorkerPool
{
    private static readonly ManualResetEventSlim s_done = new(false);
    private static Worker[] s_workers = [];
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_parts, s_pending, s_busy;

    /// <summary>
    /// Runs body(state, part, parts) for every part in [0, parts) on as many threads, the caller's included,
    /// and returns when all are done; false, having run nothing, when the pool is busy. State must stay valid
    /// until then (a pointer to the caller's stack is fine).
    /// </summary>
    public static bool TryRun(int parts, delegate*<void*, int, int, void> body, void* state)
    {
        if (parts <= 1)
        {
            body(state, 0, 1);
            return true;
        }
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
        try
        {
            EnsureWorkers(parts - 1);
            s_body = body;
            s_state = state;
            s_parts = parts;
            s_done.Reset();
            Volatile.Write(ref s_pending, parts - 1);
            for (int t = 1; t < parts; t++) s_workers[t - 1].Start(t);
            try
            {
                body(state, 0, parts);
            }
            finally
            {
                s_done.Wait(); // even when part 0 throws: the workers still read the caller's state
            }
            return true;
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
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

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return; // only the pool's current owner gets here
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
            var thread = new Thread(Loop) { IsBackground = true, Name = $"GenLab CPU worker {id}" };
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
                s_body(s_state, _part, s_parts);
                PartDone();
            }
        }
    }
}
