namespace Lab.Core.Cpu;

/// <summary>
/// The CPU kernels' one persistent worker pool (GEMM, convolution). Parallel.For allocates and schedules through
/// the shared thread pool; a kernel only needs "run these parts on T threads and tell me when done", which a few
/// parked threads, a claim counter and two events do without allocating.
/// Parts are claimed, not assigned: the caller and the woken workers take the next unclaimed part until none is
/// left, so on a busy machine, where a woken worker may not get a core for milliseconds, the caller simply runs
/// that worker's parts itself instead of waiting for it. Which thread runs a part never changes what the part
/// computes, so results do not depend on the thread count or on timing.
/// One job runs at a time: a call that finds the pool busy (another thread's kernel, or a kernel issued from inside
/// a running part, such as the GEMM inside a batch-parallel convolution) returns false and the caller runs
/// single-threaded, so there is no deadlock, no queue and no oversubscription of the cores.
/// </summary>
internal static unsafe class WorkerPool
{
    private static readonly ManualResetEventSlim s_done = new(false);
    private static Worker[] s_workers = [];
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_parts, s_pending, s_busy;
    private static long s_ticket; // job generation << 32 | next unclaimed part

    /// <summary>
    /// Runs body(state, part, parts) for every part in [0, parts) on up to <paramref name="threads"/> threads, the
    /// caller's included, and returns when all are done; false, having run nothing, when the pool is busy. State
    /// must stay valid until then (a pointer to the caller's stack is fine).
    /// </summary>
    public static bool TryRun(int parts, int threads, delegate*<void*, int, int, void> body, void* state)
    {
        if (parts <= 1 || threads <= 1)
        {
            for (int p = 0; p < parts; p++) body(state, p, parts);
            return true;
        }
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
        try
        {
            threads = Math.Min(threads, parts);
            EnsureWorkers(threads - 1);
            long generation = (Volatile.Read(ref s_ticket) >> 32) + 1;
            // Close the previous job before its fields change: a worker still looking at it could otherwise compare
            // its ticket against this job's part count, win the claim and run this job's body with a part index
            // past the end (and miscount s_pending). The closed ticket's generation matches nobody's and its part
            // number is past any job's end.
            Volatile.Write(ref s_ticket, (generation << 32) | int.MaxValue);
            s_body = body;
            s_state = state;
            s_parts = parts;
            s_pending = parts;
            s_done.Reset();
            Volatile.Write(ref s_ticket, generation << 32); // publishes the job: part 0 is the next to claim
            for (int t = 1; t < threads; t++) s_workers[t - 1].Wake();
            try
            {
                RunClaimed(generation);
            }
            finally
            {
                s_done.Wait(); // even when a part throws: the workers still read the caller's state
            }
            return true;
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary><see cref="TryRun"/>, or every part on the calling thread when the pool is busy.</summary>
    public static void Run(int parts, int threads, delegate*<void*, int, int, void> body, void* state)
    {
        if (!TryRun(parts, threads, body, state))
            for (int p = 0; p < parts; p++) body(state, p, parts);
    }

    /// <summary>Splits [0, len) into parts slices whose boundaries are multiples of unit.</summary>
    public static (int Start, int End) Slice(int len, int unit, int parts, int part)
    {
        int units = (len + unit - 1) / unit;
        int start = (int)((long)units * part / parts) * unit;
        int end = (int)((long)units * (part + 1) / parts) * unit;
        return (Math.Min(start, len), Math.Min(end, len));
    }

    /// <summary>Claims and runs parts of job <paramref name="generation"/> until none is left (or a newer job is up).</summary>
    private static void RunClaimed(long generation)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref s_ticket);
            int part = (int)ticket;
            if (ticket >> 32 != generation || part >= s_parts) return;
            // A successful claim means no part was claimed since the read, so the job is still live and
            // s_body, s_state and s_parts are still its own.
            if (Interlocked.CompareExchange(ref s_ticket, ticket + 1, ticket) != ticket) continue;
            s_body(s_state, part, s_parts);
            if (Interlocked.Decrement(ref s_pending) == 0) s_done.Set();
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return; // only the pool's current owner gets here
        var grown = new Worker[count];
        Array.Copy(s_workers, grown, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) grown[i] = new Worker(i + 1);
        s_workers = grown;
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _go = new(false);

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"GenLab CPU worker {id}" };
            thread.Start();
        }

        public void Wake() => _go.Set();

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                _go.Reset();
                // Whatever job is current now: a late wake-up finds its job fully claimed, or helps with a newer one.
                RunClaimed(Volatile.Read(ref s_ticket) >> 32);
            }
        }
    }
}
