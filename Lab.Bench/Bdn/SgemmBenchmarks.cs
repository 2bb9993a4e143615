using BenchmarkDotNet.Attributes;

namespace Lab.Bench.Bdn;

/// <summary>A GEMM shape as a BenchmarkDotNet parameter (shown by name) with its flop count.</summary>
public sealed record GemmCase(GemmShape Shape) : IHasFlops
{
    public double Flops => Shape.Flops;
    public override string ToString() => Shape.Name;
}

/// <summary>
/// SGEMM, GenLab's packed kernels against OpenBLAS (the library column shows only when libopenblas is
/// installed), on squares and on the products the seed models run, with a GFLOP/s column.
/// </summary>
[Config(typeof(BenchConfig.ShortRuns))]
public class SgemmBenchmarks
{
    private GemmRun _run = null!;

    [ParamsSource(nameof(Shapes))]
    public GemmCase Shape { get; set; } = null!;

    [ParamsSource(nameof(Libraries))]
    public string Library { get; set; } = "genlab";

    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; }

    public static IEnumerable<GemmCase> Shapes =>
        new[] { 128, 512, 1024 }.Select(GemmShape.Square).Concat(GemmShape.Seeds).Select(s => new GemmCase(s));

    public static IEnumerable<string> Libraries => GemmOpenBlas.Available ? ["genlab", "openblas"] : ["genlab"];

    public static IEnumerable<int> ThreadCounts => new[] { 1, Environment.ProcessorCount }.Distinct();

    [GlobalSetup]
    public void Setup() => _run = new GemmRun(Shape.Shape);

    [GlobalCleanup]
    public void Cleanup() => Lab.Core.Cpu.Gemm.MaxThreads = Environment.ProcessorCount;

    [Benchmark]
    public void Sgemm()
    {
        if (Library == "openblas") _run.OpenBlas(Threads);
        else _run.GenLab(Threads);
    }
}
