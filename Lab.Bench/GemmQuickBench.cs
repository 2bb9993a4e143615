using System.Diagnostics;
using Lab.Core.Cpu;

namespace Lab.Bench;

/// <summary>
/// A fast side-by-side measurement (seconds, not BenchmarkDotNet's minutes): GenLab vs OpenBLAS GFLOP/s for
/// the square sizes and the seed shapes, best of several timed runs, the two libraries interleaved so clock
/// and neighbour noise hit both alike. Run with `dotnet run -c Release --project Lab.Bench -- gemm-quick`.
/// </summary>
public static class GemmQuickBench
{
    public const string Usage = "[squares|seeds] [tune] [t1|t2] [big] [small=MACS] [mpt=MACS]";

    public static void Run(string[] args)
    {
        TuningArgs.Check("gemm-quick", Usage, args, ["squares", "seeds", "tune", "t1", "t2", "big"], ["small", "mpt"]);
        var shapes = new List<(GemmShape Shape, int Threads)>();
        bool squaresOnly = args.Contains("squares"), seedsOnly = args.Contains("seeds");
        if (!seedsOnly)
            foreach (int size in new[] { 64, 128, 256, 512, 1024 })
                foreach (int threads in new[] { 1, 2 })
                    shapes.Add((GemmShape.Square(size), threads));
        if (!squaresOnly)
            foreach (var seed in GemmShape.Seeds)
                foreach (int threads in new[] { 1, 2 })
                    shapes.Add((seed, threads));

        foreach (var arg in args.Where(x => x.StartsWith("small=")))
            Gemm.SmallPathMaxMacs = TuningArgs.Value("gemm-quick", arg, 0, long.MaxValue);
        foreach (var arg in args.Where(x => x.StartsWith("mpt=")))
            Gemm.MinMacsPerThread = TuningArgs.Value("gemm-quick", arg, 1, long.MaxValue);
        if (args.Contains("tune"))
        {
            shapes.Clear();
            foreach (var (m, n, k) in new[] { (10, 10, 2), (16, 64, 36), (32, 64, 64), (48, 48, 48), (64, 64, 64), (32, 128, 64), (96, 96, 96), (128, 128, 64), (128, 128, 128), (21632, 32, 9), (1000, 32, 16), (64, 64, 256) })
                foreach (bool tb in new[] { false, true })
                    shapes.Add((new GemmShape($"{m}x{n}x{k}{(tb ? " tB" : "")}", m, n, k, TransB: tb), 1));
        }
        if (args.Contains("t1")) shapes.RemoveAll(x => x.Threads != 1);
        if (args.Contains("t2")) shapes.RemoveAll(x => x.Threads != 2);
        if (args.Contains("big")) shapes.RemoveAll(x => x.Shape.Flops < 2e8);
        Console.WriteLine($"OpenBLAS: {(GemmOpenBlas.Available ? "loaded" : "not found, column skipped")}");
        Console.WriteLine($"{"shape",-26} {"thr",3} {"GenLab",9} {"OpenBLAS",9} {"ratio",6}");
        foreach (var (shape, threads) in shapes)
        {
            var run = new GemmRun(shape);
            double ours = 0, theirs = 0;
            for (int round = 0; round < 3; round++)
            {
                ours = Math.Max(ours, Measure(shape, () => run.GenLab(threads)));
                if (GemmOpenBlas.Available) theirs = Math.Max(theirs, Measure(shape, () => run.OpenBlas(threads)));
            }
            string blas = GemmOpenBlas.Available ? $"{theirs,9:F1} {ours / theirs,6:P0}" : "";
            Console.WriteLine($"{shape.Name,-26} {threads,3} {ours,9:F1} {blas}");
        }
        Gemm.MaxThreads = Environment.ProcessorCount;
    }

    /// <summary>Best GFLOP/s over timed batches of about 50 ms.</summary>
    private static double Measure(GemmShape shape, Action action)
    {
        action();
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.ElapsedMilliseconds < 20) { action(); reps++; }
        reps = Math.Max(1, reps * 50 / Math.Max(1, (int)sw.ElapsedMilliseconds));
        double best = double.MaxValue;
        for (int trial = 0; trial < 3; trial++)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++) action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return shape.Flops / best / 1e9;
    }
}
