using Lab.Core;
using Lab.Core.Tracing;

namespace Lab.Bench.Tests;

/// <summary>throughput --traced: the option, the "GenLab traced" columns and ratio, and the workloads stepped through a trace.</summary>
public class TracedThroughputTests
{
    private static ThroughputResult Ok(string workload, string impl, double stepsPerS, double[]? rounds = null) => new()
    {
        Workload = workload, Device = "cpu", Impl = impl, StepsPerS = stepsPerS, ImagesPerS = stepsPerS * 10, MsPerStep = 1000 / stepsPerS,
        AllocatedBytesPerStep = 0, RoundsStepsPerS = rounds, MinStepsPerS = rounds?.Min(), MaxStepsPerS = rounds?.Max(),
    };

    [Fact]
    public void The_traced_option_is_off_by_default_and_parsed()
    {
        Assert.False(ThroughputOptions.Parse([]).Traced);
        Assert.True(ThroughputOptions.Parse(["--traced", "--workloads", "toy_mlp_b10"]).Traced);
        Assert.Contains("[--traced]", ThroughputOptions.Usage);
        Assert.Contains("unknown option '--trace'", Assert.Throws<ArgumentException>(() => ThroughputOptions.Parse(["--trace"])).Message);
    }

    [Fact]
    public void Traced_columns_sit_beside_the_eager_ones_and_the_ratio_uses_the_faster_naming_it()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "genlab", 20000, [19000, 20000, 21000]), Ok("toy_mlp_b10", "genlab-traced", 30000, [29000, 30000, 31000]),
            Ok("toy_mlp_b10", "pytorch", 2000), Ok("toy_mlp_b10", "torchsharp", 2500),
            Ok("mnist_cnn_b32", "genlab", 300), Ok("mnist_cnn_b32", "genlab-traced", 290), Ok("mnist_cnn_b32", "pytorch", 150), Ok("mnist_cnn_b32", "torchsharp", 100),
        };
        var table = new ThroughputTable(results, ["cpu"], ["pytorch", "torchsharp"]);
        Assert.Equal(["workload", "GenLab cpu steps/s", "min–max", "images/s", "ms/step", "alloc B/step", "GenLab traced cpu steps/s", "min–max", "traced ÷ eager"],
            table.Header.Take(9));
        Assert.Equal("GenLab ÷ best peer", table.Header[^2]);
        var toy = table.Rows[0];
        Assert.Equal(["20,000", "19,000–21,000", "200,000", "0.050", "0 B", "30,000", "29,000–31,000", "1.50x"], toy.Skip(1).Take(8));
        Assert.Equal(["12.00x (traced vs TorchSharp)", "≥ 10x met"], toy.TakeLast(2));
        var mnist = table.Rows[1];
        Assert.Equal("0.97x", mnist[8]);
        Assert.Equal(["2.00x (PyTorch)", "≥ 2.5x missed"], mnist.TakeLast(2));

        var single = new ThroughputTable(results.Where(r => r.Impl != "torchsharp").ToArray(), ["cpu"], ["pytorch"]);
        Assert.Equal("15.00x (traced)", single.Rows[0][^2]);
        Assert.Equal("GenLab traced", Peers.Name("genlab-traced"));
    }

    [Fact]
    public void Without_traced_results_the_table_is_as_before()
    {
        var table = new ThroughputTable([Ok("toy_mlp_b10", "genlab", 20000), Ok("toy_mlp_b10", "pytorch", 2000)], ["cpu"], ["pytorch"]);
        Assert.DoesNotContain(table.Header, h => h.Contains("traced"));
        Assert.Equal("10.00x", table.Rows[0][^2]);
    }

    [Fact]
    public void A_failed_traced_measurement_shows_its_error_and_the_eager_rate_counts()
    {
        var results = new[]
        {
            Ok("toy_mlp_b10", "genlab", 20000), ThroughputResult.Failed("toy_mlp_b10", "cpu", "genlab-traced", "TracedStep failed"), Ok("toy_mlp_b10", "pytorch", 2000),
        };
        var row = new ThroughputTable(results, ["cpu"], ["pytorch"]).Rows[0];
        Assert.Equal(["TracedStep failed", "", ""], row.Skip(6).Take(3));
        Assert.Equal("10.00x", row[^2]);
    }

    [Theory]
    [InlineData("toy_mlp_b10")]
    [InlineData("vae_digits_b16")]
    [InlineData("gan_digits_b16_d5")]
    [InlineData("score_toy_b16")]
    public void A_workload_stepped_through_its_trace_matches_the_eager_steps_and_allocates_nothing(string name)
    {
        var w = Workload.Find(name);
        var (eager, traced) = (w.Create(Device.Cpu, w.DefaultBatch), w.Create(Device.Cpu, w.DefaultBatch));
        for (int i = 0; i < 6; i++)
        {
            eager.Step();
            traced.StepTraced();
            Assert.Equal(BitConverter.SingleToInt32Bits(eager.Sync()), BitConverter.SingleToInt32Bits(traced.Sync()));
        }
        Assert.Equal(TraceState.Recorded, traced.Trace!.State);
        foreach (var (e, t) in eager.Models.SelectMany(m => m.Parameters()).Zip(traced.Models.SelectMany(m => m.Parameters())))
            Assert.Equal(e.ToArray().Select(BitConverter.SingleToInt32Bits), t.ToArray().Select(BitConverter.SingleToInt32Bits));
        // Rounds as in WorkloadTests: a kernel's per-thread scratch may still grow once on a busy pool; an allocation per
        // replay shows in every round.
        var rounds = new List<long>();
        for (int round = 0; round < 4 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Workload.Pool; i++) traced.StepTraced();
            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(rounds[^1] == 0, $"{name}: managed bytes per round of {Workload.Pool} replays: {string.Join(", ", rounds)}");
        traced.Trace.Dispose();
    }
}
