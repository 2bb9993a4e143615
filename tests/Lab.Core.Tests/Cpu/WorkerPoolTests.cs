using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The worker pool under back-to-back jobs with changing part counts: every part of every job runs exactly once and
/// never with an index past its job's end (a late worker must not mistake the next job's fields for its own).
/// </summary>
public unsafe class WorkerPoolTests
{
    private struct Job
    {
        public int Parts;
        public int* Counts;
        public int Errors;
    }

    private static void Body(void* state, int part, int parts)
    {
        ref var job = ref *(Job*)state;
        if (parts != job.Parts || part < 0 || part >= job.Parts) Interlocked.Increment(ref job.Errors);
        else Interlocked.Increment(ref job.Counts[part]);
    }

    [Fact]
    public void BackToBackJobsWithChangingPartCounts_RunEachPartOnce()
    {
        int[] partCounts = [2, 9, 3, 16, 5];
        int* counts = stackalloc int[16];
        int ran = 0;
        for (int i = 0; i < 20_000; i++)
        {
            int parts = partCounts[i % partCounts.Length];
            new Span<int>(counts, 16).Clear();
            var job = new Job { Parts = parts, Counts = counts };
            if (!WorkerPool.TryRun(parts, 2, &Body, &job)) continue;   // another test holds the pool
            ran++;
            Assert.Equal(0, job.Errors);
            for (int p = 0; p < 16; p++) Assert.Equal(p < parts ? 1 : 0, counts[p]);
        }
        Assert.True(ran > 0);
    }
}
