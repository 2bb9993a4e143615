using Lab.Core.Autodiff;
using Lab.Core.Backends;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

public class TracedStepTests
{
    /// <summary>A classifier with its optimizer: two identical copies are made from the same seeds.</summary>
    private sealed class Setup
    {
        public readonly Sequential Model;
        public readonly Adam Optimizer;
        public readonly Generator Noise = new(7);
        public float DropoutRate;

        public Setup(int inputs = 3, int hidden = 20, int classes = 4)
        {
            Model = new Sequential(
                new Linear(inputs, hidden, Activation.Relu, generator: new Generator(1)),
                new Linear(hidden, hidden, Activation.Tanh, generator: new Generator(2)),
                new Linear(hidden, classes, Activation.Softmax, generator: new Generator(3)));
            Optimizer = new Adam(Model.Parameters(), lr: 1e-2f);
        }

        public Tensor Loss(Tensor x, Tensor y)
        {
            var h = DropoutRate > 0 ? x.Dropout(DropoutRate, Noise) : x;
            return Losses.SparseCategoricalCrossEntropy(Model.Call(h), y);
        }

        public Tensor Step(Tensor x, Tensor y)
        {
            Optimizer.ZeroGrad();
            var loss = Loss(x, y);
            loss.Backward();
            Optimizer.Step();
            return loss;
        }

        public IEnumerable<Tensor> State() => Model.Parameters().Concat(Optimizer.State().Select(s => s.Tensor));
    }

    private static (Tensor X, Tensor Y)[] Batches(int count, int batch = 8, int inputs = 3, int classes = 4)
    {
        var g = new Generator(11);
        return Enumerable.Range(0, count).Select(b => (Tensor.RandN(g, [batch, inputs]),
            Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (float)((i * 3 + b) % classes)).ToArray(), [batch]))).ToArray();
    }

    [Fact]
    public void Replays_an_mlp_adam_step_bit_for_bit()
    {
        var (eager, traced) = (new Setup(), new Setup());
        using var step = TracedStep.Create("mlp", traced.Step);
        foreach (var (x, y) in Batches(6))
        {
            var expected = eager.Step(x, y);
            var actual = step.Run(x, y)[0];
            TraceAssert.BitEqual(expected, actual, "loss");
            TraceAssert.BitEqual(eager.State(), traced.State(), "parameter or Adam state");
        }
        Assert.Equal(TraceState.Recorded, step.State);
        Assert.Equal(1, step.HostActions);
        Assert.True(step.RecordedKernelCalls > 20, step.Describe());
        Assert.Equal(eager.Optimizer.Steps, traced.Optimizer.Steps);
    }

    [Fact]
    public void Describe_lists_the_planned_entries_with_fused_chains_and_host_actions()
    {
        var s = new Setup();
        using var step = TracedStep.Create("mlp", s.Step);
        var (x, y) = Batches(1)[0];
        Assert.Contains("nothing recorded", step.Describe());
        step.Run(x, y); step.Run(x, y);
        var text = step.Describe();
        Assert.Contains("TracedStep 'mlp'", text);
        Assert.Contains("host: Adam.Step", text);
        Assert.Contains("MatMul", text);
        Assert.True(step.FusedChains > 0, text);
        Assert.Contains("fused x", text);
        Assert.True(step.PlannedEntries < step.RecordedKernelCalls + step.HostActions, text);
    }

    [Fact]
    public void Dropout_and_random_draws_are_host_actions_drawn_again_at_every_replay()
    {
        var (eager, traced) = (new Setup { DropoutRate = 0.3f }, new Setup { DropoutRate = 0.3f });
        var noise = (Eager: new Generator(5), Traced: new Generator(5));
        // The step also adds Gaussian noise drawn inside it.
        Tensor Noisy(Setup s, Generator g, Tensor x, Tensor y) => s.Step(x + Tensor.RandN(g, x.Shape, std: 0.1f), y);
        using var step = TracedStep.Create("dropout", (x, y) => Noisy(traced, noise.Traced, x, y));
        var losses = new List<float>();
        var (x0, y0) = Batches(1)[0];
        for (int i = 0; i < 5; i++)
        {
            var expected = Noisy(eager, noise.Eager, x0, y0);
            var actual = step.Run(x0, y0)[0];
            TraceAssert.BitEqual(expected, actual, $"loss {i}");
            losses.Add(actual.Item());
        }
        TraceAssert.BitEqual(eager.State(), traced.State(), "parameter");
        Assert.Equal(3, step.HostActions);   // noise, dropout mask, Adam
        // The same batch gives a different loss at each replay: the mask and the noise are drawn again.
        Assert.Equal(losses.Count, losses.Distinct().Count());
    }

    [Fact]
    public void A_learning_rate_changed_between_replays_is_honoured()
    {
        var (eager, traced, constant) = (new Setup(), new Setup(), new Setup());
        using var step = TracedStep.Create("schedule", traced.Step);
        using var fixedStep = TracedStep.Create("constant", constant.Step);
        int i = 0;
        foreach (var (x, y) in Batches(6))
        {
            float lr = 1e-2f * MathF.Pow(0.5f, i++);
            eager.Optimizer.LearningRate = traced.Optimizer.LearningRate = lr;
            eager.Step(x, y);
            step.Run(x, y);
            fixedStep.Run(x, y);
        }
        TraceAssert.BitEqual(eager.State(), traced.State(), "parameter");
        Assert.NotEqual(constant.Model.Parameters().First().ToArray(), traced.Model.Parameters().First().ToArray());
    }

    [Fact]
    public void A_step_may_return_several_outputs_and_they_are_the_traces_own()
    {
        var (eager, traced) = (new Setup(), new Setup());
        Tensor[] Step(Setup s, Tensor[] inputs)
        {
            var loss = s.Step(inputs[0], inputs[1]);
            using (new NoGrad()) return [loss, s.Model.Call(inputs[0]), inputs[0].Sum()];
        }
        using var step = TracedStep.Create("outputs", inputs => Step(traced, inputs));
        Tensor[]? previous = null;
        foreach (var (x, y) in Batches(5))
        {
            var expected = Step(eager, [x, y]);
            var actual = step.Run(x, y);
            Assert.Equal(3, actual.Length);
            TraceAssert.BitEqual(expected, actual, "output");
            if (step.State == TraceState.Recorded && previous is not null && step.Calls > 2) Assert.Same(previous, actual);
            previous = actual;
        }
    }

    [Fact]
    public void Inputs_that_do_not_match_the_recording_are_rejected_with_the_trace_and_the_input_named()
    {
        var s = new Setup();
        using var step = TracedStep.Create("mlp", s.Step);
        var (x, y) = Batches(1)[0];
        step.Run(x, y); step.Run(x, y); step.Run(x, y);

        var count = Assert.Throws<ArgumentException>(() => step.Run(x));
        Assert.Contains("TracedStep 'mlp': 1 inputs given, the trace was recorded with 2", count.Message);

        var shape = Assert.Throws<ArgumentException>(() => step.Run(Tensor.Zeros(9, 3), y));
        Assert.Contains("TracedStep 'mlp': input 0 has shape [9, 3], the trace was recorded with [8, 3]", shape.Message);
        Assert.Contains("Retrace()", shape.Message);

        var rank = Assert.Throws<ArgumentException>(() => step.Run(x, Tensor.Zeros(8, 1)));
        Assert.Contains("input 1 has shape [8, 1], the trace was recorded with [8]", rank.Message);

        var device = Assert.Throws<ArgumentException>(() => step.Run(x, OnOtherDevice([8])));
        Assert.Contains("TracedStep 'mlp': input 1 is on cuda:0, the trace was recorded on cpu", device.Message);

        Assert.Throws<ArgumentNullException>(() => step.Run(x, null!));

        // Retrace accepts new shapes: a warm-up, a recording, then replays again.
        step.Retrace();
        var (x2, y2) = Batches(1, batch: 5)[0];
        for (int i = 0; i < 3; i++) step.Run(x2, y2);
        Assert.Equal(TraceState.Recorded, step.State);
    }

    /// <summary>A tensor whose storage claims another device (nothing reads its elements: the check looks at the device first).</summary>
    private static Tensor OnOtherDevice(int[] shape) => new(new ElsewhereStorage(ShapeUtil.Numel(shape)), 0, shape);

    private sealed class ElsewhereStorage(int length) : Storage(length)
    {
        public override Device Device => Device.Cuda(0);
        public override IBackend Backend => throw new InvalidOperationException("not a real device");
    }

    [Fact]
    public void Reading_values_while_recording_throws_a_clear_error_and_host_actions_may_read()
    {
        var s = new Setup();
        float seen = 0;
        using var step = TracedStep.Create("reads", (x, y) =>
        {
            var loss = s.Step(x, y);
            _ = loss.Item();
            return loss;
        });
        var (x, y) = Batches(1)[0];
        step.Run(x, y);   // the warm-up is eager: reading is fine
        var error = Assert.Throws<InvalidOperationException>(() => step.Run(x, y));
        Assert.Contains("TracedStep 'reads': the step reads a tensor's values (Item, ToArray, CopyTo) while being recorded", error.Message);
        Assert.Contains("Trace.Host", error.Message);
        Assert.False(Trace.IsRecording);
        Assert.Equal(TraceState.WarmedUp, step.State);

        using var hosted = TracedStep.Create("hosted", (x, y) =>
        {
            var loss = s.Step(x, y);
            Trace.Host("read the loss", () => seen = loss.Item());
            return loss;
        });
        for (int i = 0; i < 4; i++)
        {
            var loss = hosted.Run(x, y)[0];
            Assert.Equal(loss.Item(), seen);
        }
    }

    [Fact]
    public void Verify_catches_a_step_whose_ops_change_between_calls()
    {
        int calls = 0;
        var w = Tensor.RandN(new Generator(1), [4, 4]);
        using var step = TracedStep.Create("branchy", x => calls++ % 2 == 0 ? x.MatMul(w).Relu() : x.MatMul(w).Tanh(),
            new TraceOptions { Verify = true });
        var x = Tensor.RandN(new Generator(2), [3, 4]);
        step.Run(x); step.Run(x);
        var error = Assert.Throws<InvalidOperationException>(() => step.Run(x));
        Assert.Contains("TracedStep 'branchy': call 3 does not do what the recording does at entry 1", error.Message);
        Assert.Contains("Unary Tanh", error.Message);
        Assert.Contains("Unary Relu", error.Message);

        // A changed constant is caught too.
        float scale = 1;
        using var constants = TracedStep.Create("constants", x => x * Tensor.FromArray([scale++]), new TraceOptions { Verify = true });
        constants.Run(x); constants.Run(x);
        Assert.Contains("uploaded host values", Assert.Throws<InvalidOperationException>(() => constants.Run(x)).Message);
    }

    [Fact]
    public void Verify_passes_a_steady_step_and_keeps_eager_results()
    {
        var (eager, traced) = (new Setup(), new Setup());
        using var step = TracedStep.Create("verified", traced.Step, new TraceOptions { Verify = true });
        foreach (var (x, y) in Batches(5))
            TraceAssert.BitEqual(eager.Step(x, y), step.Run(x, y)[0], "loss");
        TraceAssert.BitEqual(eager.State(), traced.State(), "parameter");
    }

    [Fact]
    public void A_replay_allocates_no_managed_memory()
    {
        var s = new Setup(hidden: 64);
        s.DropoutRate = 0.2f;
        using var step = TracedStep.Create("alloc", s.Step);
        var (x, y) = Batches(1, batch: 32)[0];
        var inputs = new[] { x, y };
        for (int i = 0; i < 4; i++) step.Run(inputs);
        // Up to three rounds, as Fit's allocation test: a kernel's scratch buffer may grow once when other tests change the
        // thread settings meanwhile; an allocation per replay shows in every round.
        var rounds = new List<long>();
        for (int round = 0; round < 3 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) step.Run(inputs);
            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(rounds[^1] == 0, $"bytes allocated by 20 replays, by round: {string.Join(", ", rounds)}");
    }

    [Fact]
    public void A_step_is_rejected_inside_another_recording_and_after_dispose()
    {
        var inner = TracedStep.Create("inner", x => x.Relu());
        var x = Tensor.RandN(new Generator(1), [4]);
        using var outer = TracedStep.Create("outer", x => inner.Run(x)[0] * 2f);
        outer.Run(x);
        Assert.Contains("do not nest", Assert.Throws<InvalidOperationException>(() => outer.Run(x)).Message);
        inner.Dispose();
        Assert.Throws<ObjectDisposedException>(() => inner.Run(x));
    }
}
