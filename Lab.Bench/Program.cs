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
        System.Console.WriteLine("GenLab bench");
        return 0;
    }
}
