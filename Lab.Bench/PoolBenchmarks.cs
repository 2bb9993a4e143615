using Lab.Core.Tests.Cpu;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Lab.Core;
using Lab.Core.Backends;

namespace Lab.Bench;

/// <summary>
/// Pooling kernels against the original loops (<see cref="NaiveConv"/>) on MnistCnn's two max-pool layers
/// (batch 32) and an overlapping padded window. Run with `bdn --filter '*PoolBenchmarks*'`.
/// </summary>
[Config(typeof(FastConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class PoolBenchmarks
{
    private static readonly Dictionary<string, PoolGeometry> Shapes = new()
    {
        ["mnistPool1"] = new(32, 32, 26, 26, 2, 2, 2, 2, 0, 0),
        ["mnistPool2"] = new(32, 64, 11, 11, 2, 2, 2, 2, 0, 0),
        ["k3s2p1"] = new(16, 16, 8, 8, 3, 3, 2, 2, 1, 1),
    };

    private Tensor _x = null!, _y = null!, _idx = null!, _dy = null!, _dx = null!;
    private PoolGeometry _g;

    [ParamsSource(nameof(ShapeNames))]
    public string Pool { get; set; } = "";

    public static IEnumerable<string> ShapeNames => Shapes.Keys;

    [GlobalSetup]
    public void Setup()
    {
        _g = Shapes[Pool];
        var gen = new Generator(1);
        _x = Tensor.RandN(gen, [_g.N, _g.C, _g.H, _g.W]);
        _y = Tensor.Empty([_g.N, _g.C, _g.OutH, _g.OutW]);
        _idx = Tensor.Empty([_g.N, _g.C, _g.OutH, _g.OutW]);
        _dy = Tensor.RandN(gen, [_g.N, _g.C, _g.OutH, _g.OutW]);
        _dx = Tensor.Empty([_g.N, _g.C, _g.H, _g.W]);
        CpuBackend.Instance.MaxPool2d(_x, _y, _idx, _g); // indices for the gradient benchmarks
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Max")]
    public void MaxNaive() => NaiveConv.MaxPool2d(_x.Span, _y.Span, _idx.Span, _g);

    [Benchmark, BenchmarkCategory("Max")]
    public void Max() => CpuBackend.Instance.MaxPool2d(_x, _y, _idx, _g);

    [Benchmark(Baseline = true), BenchmarkCategory("MaxGrad")]
    public void MaxGradNaive() => NaiveConv.MaxPool2dGrad(_dy.Span, _idx.Span, _dx.Span, _g);

    [Benchmark, BenchmarkCategory("MaxGrad")]
    public void MaxGrad() => CpuBackend.Instance.MaxPool2dGrad(_dy, _idx, _dx, _g);

    [Benchmark(Baseline = true), BenchmarkCategory("Avg")]
    public void AvgNaive() => NaiveConv.AvgPool2d(_x.Span, _y.Span, _g);

    [Benchmark, BenchmarkCategory("Avg")]
    public void Avg() => CpuBackend.Instance.AvgPool2d(_x, _y, _g);

    [Benchmark(Baseline = true), BenchmarkCategory("AvgGrad")]
    public void AvgGradNaive() => NaiveConv.AvgPool2dGrad(_dy.Span, _dx.Span, _g);

    [Benchmark, BenchmarkCategory("AvgGrad")]
    public void AvgGrad() => CpuBackend.Instance.AvgPool2dGrad(_dy, _dx, _g);
}
