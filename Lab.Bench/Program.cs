using BenchmarkDotNet.Running;

namespace Lab.Bench;

/// <summary>
/// The benchmark command line. Every failure is one line and an exit code: 2 for a command line that cannot work
/// (an unknown command or option, a value out of bounds, a results folder GenLab did not write), 1 when a
/// measurement fails; the stack trace only with --verbose.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        args = args.Where(a => a != "--verbose").ToArray();
        try { return Run(args); }
        catch (Exception e)
        {
            Console.Error.WriteLine(e is UsageException ? e.Message : $"{args[0]} failed: {e.GetType().Name}: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return e is UsageException ? 2 : 1;
        }
    }

    private static int Run(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "gemm-quick":
                GemmQuickBench.Run(args[1..]);
                return 0;
            case "conv-quick":
                ConvQuickBench.Run(args[1..]);
                return 0;
            case "throughput":
                return Throughput.ThroughputCommand.Run(args[1..]);
            case "bdn":
                var root = Throughput.ThroughputCommand.RepoRoot();
                var benchDir = Path.Combine(root, "results", "bench");
                Throughput.BenchFolder.Refuse(benchDir, ["bdn/"]);
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], Bdn.BenchConfig.Create(root));
                if (Directory.Exists(Path.Combine(benchDir, "bdn"))) Throughput.BenchFolder.Mark(benchDir, "bdn " + string.Join(" ", args[1..]), ["bdn/"]);
                return 0;
            case null:
                Usage();
                return 2;
            case var unknown:
                Console.Error.WriteLine($"unknown command '{unknown}'.");
                Usage();
                return 2;
        }
    }

    private static void Usage()
    {
        Console.Error.WriteLine("usage: dotnet run -c Release --project Lab.Bench -- <command> [--verbose]");
        Console.Error.WriteLine("  bdn [BenchmarkDotNet args]   BenchmarkDotNet suites (e.g. --filter '*OpOverhead*')");
        Console.Error.WriteLine("  " + Throughput.ThroughputOptions.Usage.Replace("\n", "\n  "));
        Console.Error.WriteLine("  gemm-quick " + GemmQuickBench.Usage + "   SGEMM GFLOP/s against OpenBLAS when installed");
        Console.Error.WriteLine("  conv-quick " + ConvQuickBench.Usage + "   convolution tuning run");
    }
}
