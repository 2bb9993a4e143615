using BenchmarkDotNet.Attributes;
using Lab.Bench.Throughput;

namespace Lab.Bench.Bdn;

/// <summary>
/// One training step of each seed workload (the throughput harness's <see cref="WorkloadRun"/>), per device
/// and batch size (0: the seed's batch), allocations included. Cases on an unavailable device are filtered
/// out by <see cref="BenchConfig"/>.
/// </summary>
[Config(typeof(BenchConfig.LongSteps))]
public class SeedStepBenchmarks
{
    private WorkloadRun _run = null!;

    [ParamsSource(nameof(Workloads))]
    public string Workload { get; set; } = "";

    [Params("cpu", "cuda")]
    public string Device { get; set; } = "cpu";

    [Params(0, 64)]
    public int Batch { get; set; }

    public static IEnumerable<string> Workloads => Throughput.Workload.All.Select(w => w.Name);

    [GlobalSetup]
    public void Setup()
    {
        var w = Throughput.Workload.Find(Workload);
        _run = w.Create(Lab.Core.Device.Parse(Device), Batch == 0 ? w.DefaultBatch : Batch);
    }

    /// <summary>A step, then a read of its loss so that an asynchronous device has finished it.</summary>
    [Benchmark]
    public float Step()
    {
        _run.Step();
        return _run.Sync();
    }
}
