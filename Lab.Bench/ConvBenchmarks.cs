using Lab.Core.Tests.Cpu;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Lab.Core;
using Lab.Core.Backends;

namespace Lab.Bench;

/// <summary>
/// The CPU backend's convolution kernels against the original loops (<see cref="NaiveConv"/>, the baseline of each
/// category) on the seed models' layer shapes. Run with
/// `dotnet run -c Release --project Lab.Bench -- bdn --filter '*ConvBenchmarks*'`.
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class ConvBenchmarks
{
    private Tensor _x = null!, _w = null!, _b = null!, _y = null!, _dy = null!, _dx = null!, _dw = null!;
    private ConvGeometry _g;

    [ParamsSource(nameof(Shapes))]
    public ConvCase Shape { get; set; } = new("");

    public static IEnumerable<ConvCase> Shapes => ConvShapes.All.Keys.Select(name => new ConvCase(name));

    /// <summary>A named layer shape; its FLOP count feeds the shared GFLOP/s column.</summary>
    public sealed record ConvCase(string Name) : Bdn.IHasFlops
    {
        public double Flops => ConvShapes.Flops(ConvShapes.All[Name]);
        public override string ToString() => Name;
    }

    [GlobalSetup]
    public void Setup()
    {
        _g = ConvShapes.All[Shape.Name];
        var gen = new Generator(1);
        _x = Tensor.RandN(gen, [_g.N, _g.C, _g.H, _g.W]);
        _w = Tensor.RandN(gen, [_g.K, _g.C, _g.R, _g.S]);
        _b = Tensor.RandN(gen, [_g.K]);
        _y = Tensor.Empty([_g.N, _g.K, _g.OutH, _g.OutW]);
        _dy = Tensor.RandN(gen, [_g.N, _g.K, _g.OutH, _g.OutW]);
        _dx = Tensor.Empty([_g.N, _g.C, _g.H, _g.W]);
        _dw = Tensor.Empty([_g.K, _g.C, _g.R, _g.S]);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Forward")]
    public void ForwardNaive() => NaiveConv.Conv2d(_x.Span, _w.Span, _b.Span, _y.Span, _g);

    [Benchmark, BenchmarkCategory("Forward")]
    public void Forward() => CpuBackend.Instance.Conv2d(_x, _w, _b, _y, _g);

    [Benchmark(Baseline = true), BenchmarkCategory("GradInput")]
    public void GradInputNaive() => NaiveConv.Conv2dGradInput(_dy.Span, _w.Span, _dx.Span, _g);

    [Benchmark, BenchmarkCategory("GradInput")]
    public void GradInput() => CpuBackend.Instance.Conv2dGradInput(_dy, _w, _dx, _g);

    [Benchmark(Baseline = true), BenchmarkCategory("GradWeight")]
    public void GradWeightNaive() => NaiveConv.Conv2dGradWeight(_x.Span, _dy.Span, _dw.Span, _g);

    [Benchmark, BenchmarkCategory("GradWeight")]
    public void GradWeight() => CpuBackend.Instance.Conv2dGradWeight(_x, _dy, _dw, _g);

    private sealed class Config : FastConfig
    {
        public Config() => AddColumn(new Bdn.FlopsColumn());
    }
}
