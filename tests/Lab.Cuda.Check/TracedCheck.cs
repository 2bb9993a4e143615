using System.Diagnostics;
using Lab.Core.Backends;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Cuda;
using Lab.Core.Tracing;
using Lab.Models;

/// <summary>
/// The traced step on a CUDA device: two copies of a model from the same seeds, one stepped eagerly and one through a
/// <see cref="TracedStep"/>, must agree (losses and parameters; the error is 0 when the replay is bit for bit, as on the
/// CPU), and the replay captures device graphs when the backend can (<see cref="IGraphCapture"/>). Timings compare the
/// two on the issue's mnist_cnn_b32.
/// </summary>
internal static class TracedCheck
{
    private const double Tolerance = 1e-5;

    public static IEnumerable<Check> Steps(Device device)
    {
        yield return Compare("traced toy_mlp_b10", () => new ToyMlp(new Generator(1)), [10, 2], 5, device);
        yield return Compare("traced digits_cnn_b10", () => new DigitsCnn(new Generator(1)), [10, 1, 8, 8], 10, device);
        yield return Compare("traced mnist_cnn_b32", () => new MnistCnn(new Generator(1)), [32, 1, 28, 28], 10, device);
    }

    private static (Module Model, Adam Optimizer, Func<Tensor, Tensor, Tensor> Step) Build(Func<Module> build, Device device)
    {
        var model = build().To(device);
        var opt = new Adam(model.Parameters());
        return (model, opt, (x, y) =>
        {
            opt.ZeroGrad();
            var loss = Losses.SparseCategoricalCrossEntropy(model.Call(x), y);
            loss.Backward();
            opt.Step();
            return loss;
        });
    }

    private static Check Compare(string name, Func<Module> build, int[] inputShape, int classes, Device device)
    {
        var (eager, traced) = (Build(build, device), Build(build, device));
        using var step = TracedStep.Create(name, traced.Step);
        var g = new Generator(2);
        double error = 0;
        bool bitForBit = true;
        for (int call = 0; call < 5; call++)
        {
            var x = Tensor.Rand(g, inputShape, device: device);
            var y = Tensor.FromArray(Enumerable.Range(0, inputShape[0]).Select(i => (float)((i * 7 + call) % classes)).ToArray(), [inputShape[0]], device);
            var expected = eager.Step(x, y).ToArray();
            var actual = step.Run(x, y)[0].ToArray();
            Accumulate(expected, actual);
        }
        foreach (var (e, a) in eager.Model.Parameters().Zip(traced.Model.Parameters())) Accumulate(e.ToArray(), a.ToArray());
        string graphs = BackendRegistry.For(device) is IGraphCapture
            ? $", {step.CapturedGraphs} device graphs captured{(step.DeviceGraphFailure is { } why ? $"; graphs given up: {why}" : "")}"
            : ", the backend captures no graphs";
        // A backend that captures graphs must have captured them: a missing capture fails the check.
        if (BackendRegistry.For(device) is IGraphCapture && step.CapturedGraphs == 0) error = double.NaN;
        return new Check(name, error, Tolerance, $"({(bitForBit ? "bit for bit" : "not bit for bit")}; {step.RecordedKernelCalls} kernels, {step.HostActions} host actions{graphs})");

        void Accumulate(float[] expected, float[] actual)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                bitForBit &= BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
                error = Math.Max(error, Math.Abs(expected[i] - actual[i]) / (1 + Math.Abs(expected[i])));
            }
        }
    }

    /// <summary>Steps per second of mnist_cnn_b32 (the issue's GPU goal: 100,000 images/s traced), eager and traced, alternating.</summary>
    public static void Timings(Device device, Action<string> say)
    {
        foreach (int batch in new[] { 32 })
        {
            var g = new Generator(2);
            var x = Tensor.Rand(g, [batch, 1, 28, 28], device: device);
            var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (float)(i % 10)).ToArray(), [batch], device);
            var eager = Build(() => new MnistCnn(new Generator(1)), device);
            var traced = Build(() => new MnistCnn(new Generator(1)), device);
            using var step = TracedStep.Create("mnist", traced.Step);
            Tensor[] inputs = [x, y];
            double Rate(Func<Tensor> run, int steps)
            {
                for (int i = 0; i < 20; i++) run();
                run().Item();
                var watch = Stopwatch.StartNew();
                Tensor last = x;
                for (int i = 0; i < steps; i++) last = run();
                last.Item();   // waits for the queued steps
                return steps / watch.Elapsed.TotalSeconds;
            }
            for (int round = 0; round < 2; round++)
            {
                double e = Rate(() => eager.Step(x, y), 300);
                double t = Rate(() => step.Run(inputs)[0], 300);
                say($"perf mnist_cnn_b{batch} on {device}, round {round + 1}: eager {e * batch:F0} images/s, traced {t * batch:F0} images/s ({t / e:F2}x; {step.CapturedGraphs} graphs)");
            }
        }
    }
}
