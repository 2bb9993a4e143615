using Lab.Core.Diagnostics;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Diagnostics;

public class OpProfilerTests
{
    private static Sequential Mlp() => new(new Linear(2, 3, Activation.Relu, generator: new Generator(1)), new Linear(3, 1, generator: new Generator(2)));

    private static IReadOnlyList<OpTiming> Profile(Action work)
    {
        OpProfiler.Reset();
        OpProfiler.Start();
        try { work(); }
        finally { OpProfiler.Stop(); }
        var rows = OpProfiler.Snapshot();
        OpProfiler.Reset();
        return rows;
    }

    [Fact]
    public void Off_by_default_and_records_nothing_then()
    {
        Assert.False(OpProfiler.Enabled);
        Mlp().Call(Tensor.Ones(4, 2));
        Assert.Empty(OpProfiler.Snapshot());
    }

    [Fact]
    public void Forward_rows_per_layer_and_backward_rows_per_node_name_and_shape()
    {
        var model = Mlp();
        var x = Tensor.Ones(4, 2);
        var rows = Profile(() =>
        {
            for (int i = 0; i < 3; i++) model.Call(x).Sum().Backward();
        });
        Assert.Equal(3, rows.Single(r => r.Label == "Linear(2 -> 3, relu)").Calls);
        Assert.Equal([4, 2], rows.Single(r => r.Label == "Linear(2 -> 3, relu)").InputShape);
        Assert.Equal(3, rows.Single(r => r.Label == "Sequential").Calls);
        // Two Linear layers run MatMul on different input shapes: two rows; Add and Relu are told apart by name.
        Assert.Equal(2, rows.Count(r => r.Phase == "backward" && r.Label == "MatMulBackward"));
        Assert.Contains(rows, r => r.Phase == "backward" && r.Label == "ReluBackward");
        Assert.All(rows, r => Assert.True(r.Seconds >= 0));
    }

    [Fact]
    public void A_region_is_charged_its_own_time_without_the_regions_inside_it()
    {
        var rows = Profile(() =>
        {
            long outer = OpProfiler.Begin();
            long inner = OpProfiler.Begin();
            Thread.Sleep(50);
            OpProfiler.End(inner, "forward", "inner", "inner", k => (string)k, []);
            OpProfiler.End(outer, "forward", "outer", "outer", k => (string)k, []);
        });
        double inner = rows.Single(r => r.Label == "inner").Seconds, outer = rows.Single(r => r.Label == "outer").Seconds;
        Assert.True(inner >= 0.045, $"inner {inner}");
        Assert.True(outer < inner / 2, $"outer's own time {outer} must not include inner's {inner}");
    }

    [Fact]
    public void Other_threads_are_not_mixed_in()
    {
        var model = Mlp();
        var rows = Profile(() =>
        {
            var t = new Thread(() => model.Call(Tensor.Ones(1, 2)));
            t.Start();
            t.Join();
        });
        Assert.Empty(rows);
    }
}
