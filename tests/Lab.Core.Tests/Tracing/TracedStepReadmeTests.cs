using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

/// <summary>The README's "Traced steps" example, run as written.</summary>
public class TracedStepReadmeTests
{
    [Fact]
    public void TheReadmeExampleRunsAndReplays()
    {
        var g = new Generator(1);
        var batches = Enumerable.Range(0, 4).Select(b => (Tensor.RandN(g, [8, 2]), Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (float)((i + b) % 5)).ToArray(), [8]))).ToArray();
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        TracedStep traced;
        try
        {
            // ---- README begins
            var model = new Sequential(new Linear(2, 64, Activation.Relu), new Linear(64, 5, Activation.Softmax));
            var optimizer = new Adam(model.Parameters());
            using var step = TracedStep.Create("classifier", (x, y) =>
            {
                optimizer.ZeroGrad();
                var loss = Losses.SparseCategoricalCrossEntropy(model.Call(x), y);
                loss.Backward();
                optimizer.Step();                 // a host action: replays see the live step count and learning rate
                return loss;
            });
            foreach (var (x, y) in batches)
            {
                var loss = step.Run(x, y)[0];     // call 1: eager warm-up; call 2: eager and recorded; then replays
                Console.WriteLine(loss.Item());   // read (or copy) the outputs before the next Run overwrites them
            }
            Console.WriteLine(step.Describe());   // the planned op list: kernels, fused chains, host actions
            // ---- README ends
            traced = step;
            Assert.Equal(4, optimizer.Steps);
        }
        finally { Console.SetOut(previous); }
        Assert.Equal(TraceState.Recorded, traced.State);
        Assert.Contains("host: Adam.Step", output.ToString());
        var error = Assert.Throws<ObjectDisposedException>(() => traced.Run(batches[0].Item1, batches[0].Item2));
        Assert.Contains("TracedStep", error.Message);
    }

    [Fact]
    public void TheReadmeShowsTheTestedExample() => ReadmeExample.AssertSameAsTest("var model = new Sequential(new Linear(2, 64, Activation.Relu), new Linear(64, 5, Activation.Softmax));", "Tracing", "TracedStepReadmeTests.cs");
}
