using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Lab.Bench.Bdn;

/// <summary>A benchmark parameter that knows how many floating-point operations one invocation does.</summary>
public interface IHasFlops
{
    double Flops { get; }
}

/// <summary>
/// GFLOP/s from the mean time of a case and the <see cref="IHasFlops"/> value among its parameters (a GEMM
/// shape, a conv geometry); blank for cases without one.
/// </summary>
public sealed class FlopsColumn : IColumn
{
    public string Id => nameof(FlopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Billions of floating-point operations per second (2 per multiply-add), from the mean time";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => FlopsOf(c) is not null);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return FlopsOf(benchmarkCase) is double flops && mean is double ns && ns > 0
            ? (flops / ns).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    private static double? FlopsOf(BenchmarkCase c) =>
        c.Parameters.Items.Select(p => p.Value).OfType<IHasFlops>().Select(f => (double?)f.Flops).FirstOrDefault();

    public override string ToString() => ColumnName;
}
