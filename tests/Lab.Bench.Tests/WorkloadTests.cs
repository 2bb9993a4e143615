using Lab.Core;
using Lab.Core.Diagnostics;
using Lab.Core.Nn;

namespace Lab.Bench.Tests;

public class WorkloadTests
{
    [Fact]
    public void The_six_seed_workloads_and_the_sequence_and_attention_experiments_with_their_batches()
    {
        Assert.Equal(["toy_mlp_b10", "digits_cnn_b10", "vae_digits_b16", "gan_digits_b16_d5", "score_toy_b16", "mnist_cnn_b32",
            "lstm_adding_b32_t200", "attention_dates_b32"], Workload.All.Select(w => w.Name));
        foreach (var w in Workload.All) Assert.Matches($"_b{w.DefaultBatch}(_d5|_t200)?$", w.Name);
        Assert.Equal(80, Workload.Find("gan_digits_b16_d5").ImagesPerStep(16));
        Assert.Equal(32, Workload.Find("mnist_cnn_b32").ImagesPerStep(32));
    }

    /// <summary>Every seed workload; the MNIST CNN (5 ms a step) only where a test needs it.</summary>
    public static TheoryData<string> Workloads(bool mnist) =>
        [.. Workload.All.Select(w => w.Name).Where(n => mnist || !n.StartsWith("mnist", StringComparison.Ordinal))];

    /// <summary>
    /// The workloads whose steady-state step allocates nothing. Not yet attention_dates_b32: its masked recurrent and
    /// merge paths still allocate about 350 bytes a step (2,816 per 8 steps measured).
    /// </summary>
    public static TheoryData<string> AllocationFree() =>
        [.. Workload.All.Select(w => w.Name).Where(n => n != "attention_dates_b32")];

    [Theory]
    [MemberData(nameof(Workloads), false)]
    public void Each_step_trains_and_gives_a_finite_loss(string name)
    {
        var w = Workload.Find(name);
        var run = w.Create(Device.Cpu, w.DefaultBatch);
        var before = run.Models.SelectMany(m => m.Parameters()).Select(p => p.ToArray()).ToList();
        run.Step();
        run.Step();
        Assert.True(float.IsFinite(run.Sync()));
        var after = run.Models.SelectMany(m => m.Parameters()).Select(p => p.ToArray()).ToList();
        Assert.Contains(Enumerable.Range(0, before.Count), i => !before[i].SequenceEqual(after[i]));
    }

    [Theory]
    [MemberData(nameof(AllocationFree))]
    public void A_steady_state_step_allocates_nothing_on_the_managed_heap(string name)
    {
        // The zero-allocation mode (tensor objects reused too), switched on for this thread only.
        bool recycled = TensorScope.RecycleObjects;
        TensorScope.RecycleObjects = true;
        try { SteadyStateStepAllocatesNothing(name); }
        finally { TensorScope.RecycleObjects = recycled; }
    }

    private static void SteadyStateStepAllocatesNothing(string name)
    {
        var w = Workload.Find(name);
        var run = w.Create(Device.Cpu, w.DefaultBatch);
        for (int i = 0; i < 2 * Workload.Pool; i++) run.Step();   // pools fill, every batch of the cycle seen
        // A kernel's per-thread scratch can still grow once when other tests keep the worker pool busy and this
        // thread runs parts it normally leaves to workers; an allocation per step shows in every round.
        var rounds = new List<long>();
        for (int round = 0; round < 4 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Workload.Pool; i++) run.Step();
            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(rounds[^1] == 0, $"{name}: managed bytes per round of {Workload.Pool} steps: {string.Join(", ", rounds)}");
        Assert.True(float.IsFinite(run.Sync()));
    }

    [Fact]
    public void Conv_and_dense_flops_follow_the_layer_geometry()
    {
        Assert.Equal(2.0 * 32 * 576 * 64, ProfileReport.ForwardFlops(new Linear(576, 64), [32, 576]));
        // 28x28 valid 3x3 -> 26x26, 32 filters over 1 channel.
        Assert.Equal(2.0 * 32 * 32 * 26 * 26 * 9, ProfileReport.ForwardFlops(new Conv2d(1, 32, 3), [32, 1, 28, 28]));
        Assert.Equal(2.0 * 4 * 8 * 4 * 4 * 4 * 9, ProfileReport.ForwardFlops(new Conv2d(4, 8, 3, stride: 2, padding: 1), [4, 4, 8, 8]));
        // "same" keeps 8x8; each of the 8 filters sees its group's 2 channels through a 3x1 kernel.
        Assert.Equal(2.0 * 4 * 8 * 8 * 8 * 2 * 3, ProfileReport.ForwardFlops(new Conv2d(4, 8, (3, 1), padding: Padding.SameSize, dilation: 2, groups: 2), [4, 4, 8, 8]));
    }

    [Fact]
    public void A_profile_names_every_layer_and_counts_input_gradients_per_conv()
    {
        var w = Workload.Find("digits_cnn_b10");
        var run = w.Create(Device.Cpu, w.DefaultBatch);
        var report = ProfileReport.Collect(w.Name, "cpu", run, seconds: 0.01);
        Assert.False(OpProfiler.Enabled);
        Assert.Contains(report.Rows, r => r.Phase == "forward" && r.Label == "Conv2d(1 -> 4, 3x3, relu)");
        Assert.Contains(report.Rows, r => r.Phase == "backward" && r.Label == "Conv2dBackward");
        Assert.Contains(report.Rows, r => r.Phase == "optimizer" && r.Label == "Adam.Step");
        var layers = report.Layers;
        // Three convs and one dense layer, forward and backward each; the first conv's input needs no gradient.
        Assert.Equal(8, layers.Count);
        Assert.Equal("backward (dW)", layers[1].Direction);
        Assert.Equal(layers[0].GflopPerStep, layers[1].GflopPerStep, 12);
        Assert.Equal("backward (dX, dW)", layers[3].Direction);
        Assert.Equal(2 * layers[2].GflopPerStep, layers[3].GflopPerStep, 12);
        string md = report.ToMarkdown(10, peakGflops: 100, "test peak");
        Assert.Contains("| forward |", md);
        Assert.Contains("against a practical peak of 100 GFLOP/s (test peak)", md);
    }
}
