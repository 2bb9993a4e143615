using BenchmarkDotNet.Running;

namespace Lab.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "gemm-quick")
        {
            GemmQuickBench.Run(args[1..]);
            return 0;
        }
        if (args.Length > 0 && args[0] == "conv-quick")
        {
            ConvQuickBench.Run(args[1..]);
            return 0;
        }
        if (args.Length > 0 && args[0] == "throughput")
            return Throughput.ThroughputCommand.Run(args[1..]);
        if (args.Length > 0 && args[0] == "bdn")
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], Bdn.BenchConfig.Create(Throughput.ThroughputCommand.RepoRoot()));
            return 0;
        }
        Console.Error.WriteLine("usage: dotnet run -c Release --project Lab.Bench -- <command>");
        Console.Error.WriteLine("  bdn [BenchmarkDotNet args]   BenchmarkDotNet suites (e.g. --filter '*OpOverhead*')");
        Console.Error.WriteLine("  " + Throughput.ThroughputOptions.Usage.Replace("\n", "\n  "));
        Console.Error.WriteLine("  gemm-quick                   SGEMM GFLOP/s against OpenBLAS when installed");
        Console.Error.WriteLine("  conv-quick [naive] [chunk=F] [minmacs=M] [threads=T] [orient=0|1|2] [pass] [shape...]   convolution tuning run");
        return args.Length == 0 ? 2 : 2;
    }
}
