using System.Diagnostics;

namespace Lab.Bench.Throughput;

/// <summary>
/// The machine's practical FP32 ceiling: the best large square SGEMM rate on all cores, from OpenBLAS when
/// it is installed and from GenLab's own packed SGEMM, whichever is higher; the theoretical peak
/// (ISA x clock x cores) is stated beside it.
/// </summary>
public sealed record PracticalPeak(double? OpenBlasGflops, double GenLabGflops, double? TheoreticalGflops, int Threads, int Size)
{
    public double Gflops => Math.Max(OpenBlasGflops ?? 0, GenLabGflops);

    public string Source => (OpenBlasGflops is double o && o >= GenLabGflops ? "OpenBLAS" : "GenLab") +
        $" SGEMM {Size}^3 on {Threads} threads";

    public string Describe(System.IFormatProvider inv) => string.Format(inv,
        "SGEMM {0}^3 on {1} threads: OpenBLAS {2}, GenLab {3:F0} GFLOP/s; theoretical {4}",
        Size, Threads, OpenBlasGflops is double o ? o.ToString("F0", inv) + " GFLOP/s" : "not installed", GenLabGflops,
        TheoreticalGflops is double t ? t.ToString("F0", inv) + " GFLOP/s (ISA x nominal clock x cores)" : "unknown (no clock reported)");

    public static PracticalPeak Measure(MachineInfo machine, int size = 1024)
    {
        int threads = Environment.ProcessorCount;
        var run = new GemmRun(GemmShape.Square(size));
        double flops = 2.0 * size * size * size;
        double genlab = 0, openblas = 0;
        for (int round = 0; round < 3; round++)
        {
            genlab = Math.Max(genlab, Best(flops, () => run.GenLab(threads)));
            if (GemmOpenBlas.Available) openblas = Math.Max(openblas, Best(flops, () => run.OpenBlas(threads)));
        }
        Lab.Core.Cpu.Gemm.MaxThreads = threads;
        return new PracticalPeak(GemmOpenBlas.Available ? openblas : null, genlab, machine.TheoreticalPeakGflops, threads, size);
    }

    private static double Best(double flops, Action gemm)
    {
        gemm();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            gemm();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return flops / best / 1e9;
    }
}
