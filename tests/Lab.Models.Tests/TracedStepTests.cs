using Xunit;
using Lab.Core;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tracing;
using Lab.Core.Training;

namespace Lab.Models.Tests;

/// <summary>
/// Each benchmark workload's model and step, in two copies made from the same seeds: one stepped eagerly, one through a
/// <see cref="TracedStep"/> (a warm-up, a recording, then replays). Outputs, parameters, buffers (batch-norm running
/// statistics) and optimizer state must agree bit for bit after every call.
/// </summary>
public class TracedStepTests
{
    private sealed record Copy(Func<Tensor[], Tensor[]> Step, Func<IEnumerable<Tensor>> State);

    private static IEnumerable<Tensor> StateOf(IEnumerable<Module> modules, IEnumerable<Optimizer> optimizers) =>
        modules.SelectMany(m => m.StateDict().Select(s => s.Tensor)).Concat(optimizers.SelectMany(o => o.State().Select(s => s.Tensor)));

    private static void SameAsEager(string name, Func<Copy> make, Func<int, Tensor[]> batch, int calls = 5)
    {
        var (eager, traced) = (make(), make());
        using var step = TracedStep.Create(name, traced.Step);
        for (int i = 0; i < calls; i++)
        {
            var inputs = batch(i);
            var expected = eager.Step(inputs);
            var actual = step.Run(inputs);
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < expected.Length; k++) BitEqual(expected[k], actual[k], $"{name}: call {i + 1}, output {k}");
            var (es, ts) = (eager.State().ToArray(), traced.State().ToArray());
            Assert.Equal(es.Length, ts.Length);
            for (int k = 0; k < es.Length; k++) BitEqual(es[k], ts[k], $"{name}: call {i + 1}, state tensor {k}");
        }
        Assert.Equal(TraceState.Recorded, step.State);
        Assert.True(step.HostActions >= 1, step.Describe());
    }

    private static void BitEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.ShapeArray(), actual.ShapeArray());
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            if (BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(a[i]))
                Assert.Fail($"{what}: element {i} is {a[i]:R}, eager gives {e[i]:R}.");
    }

    private static Func<int, Tensor[]> Images(int batch, int[] shape, int classes)
    {
        var g = new Generator(2);
        var pool = Enumerable.Range(0, 3).Select(p => new[]
        {
            Tensor.Rand(g, [batch, .. shape]),
            Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (float)((i * 7 + p) % classes)).ToArray(), [batch]),
        }).ToArray();
        return i => pool[i % pool.Length];
    }

    private static Copy Classifier(Func<Module> model)
    {
        var m = model();
        var opt = new Adam(m.Parameters());
        return new(inputs =>
        {
            opt.ZeroGrad();
            var loss = Losses.SparseCategoricalCrossEntropy(m.Call(inputs[0]), inputs[1]);
            loss.Backward();
            opt.Step();
            return [loss];
        }, () => StateOf([m], [opt]));
    }

    [Fact]
    public void Toy_mlp() => SameAsEager("toy_mlp", () => Classifier(() => new ToyMlp(new Generator(1))), Images(10, [2], 5));

    [Fact]
    public void Digits_cnn() => SameAsEager("digits_cnn", () => Classifier(() => new DigitsCnn(new Generator(1))), Images(10, [1, 8, 8], 10));

    [Fact]
    public void Mnist_cnn() => SameAsEager("mnist_cnn", () => Classifier(() => new MnistCnn(new Generator(1))), Images(3, [1, 28, 28], 10), calls: 4);

    [Fact]
    public void Vae_with_reparameterised_noise()
    {
        SameAsEager("vae", () =>
        {
            var vae = new Vae(generator: new Generator(1));
            var trainer = new VaeTrainer(vae, temperature: 0.01f, new Generator(3));
            return new(inputs =>
            {
                var (loss, kl, reconstruction) = trainer.Step(inputs[0]);
                return [loss, kl, reconstruction];
            }, () => StateOf([vae], trainer.Optimizers));
        }, Images(16, [1, 8, 8], 10));
    }

    [Fact]
    public void Gan_with_five_discriminator_updates_batch_norm_and_two_optimizers()
    {
        SameAsEager("gan", () =>
        {
            var gan = new Gan(generator: new Generator(1));
            var trainer = new GanTrainer(gan, discriminatorSteps: 5, new Generator(3));
            return new(inputs =>
            {
                var (d, g) = trainer.Step(inputs[0]);
                return [d, g];
            }, () => StateOf([gan], trainer.Optimizers));
        }, Images(16, [1, 8, 8], 10), calls: 4);
    }

    [Fact]
    public void Score_mlp_with_second_order_gradients_inside_the_step()
    {
        var g = new Generator(2);
        var points = Enumerable.Range(0, 3).Select(_ => Tensor.RandN(g, [16, 2])).ToArray();
        SameAsEager("score", () =>
        {
            var model = new ScoreMlp(new Generator(1));
            var trainer = new ScoreTrainer(model, lr: 1e-2f, projections: null);
            return new(inputs => [trainer.Step(inputs[0])], () => StateOf([model], trainer.Optimizers));
        }, i => [points[i % 3]]);
    }

    [Fact]
    public void Lstm_on_the_adding_problem()
    {
        var g = new Generator(2);
        var batches = Enumerable.Range(0, 3).Select(_ => AddingProblem.Sample(g, 8, 12)).ToArray();
        SameAsEager("lstm_adding", () =>
        {
            var model = AddingModels.Create(AddingModels.Lstm, 8, new Generator(1));
            var opt = new Adam(model.Parameters(), lr: AddingModels.LearningRate);
            return new(inputs =>
            {
                opt.ZeroGrad();
                var loss = Losses.Mse(model.Call(inputs[0]), inputs[1]);
                loss.Backward();
                opt.Step();
                return [loss];
            }, () => StateOf([model], [opt]));
        }, i => [batches[i % 3].X, batches[i % 3].Y]);
    }

    [Fact]
    public void Attention_translator()
    {
        const int vocabulary = 13, source = 9, target = 5, batch = 4;
        var g = new Generator(2);
        var pool = Enumerable.Range(0, 3).Select(_ => new[]
        {
            Tensor.FromArray(Enumerable.Range(0, batch * source).Select(i => (float)(i % source < 6 ? 1 + g.NextInt(vocabulary - 1) : 0)).ToArray(), [batch, source]),
            Tensor.FromArray(Enumerable.Range(0, batch * target).Select(_ => (float)(1 + g.NextInt(vocabulary - 1))).ToArray(), [batch, target]),
            Tensor.FromArray(Enumerable.Range(0, batch * target).Select(_ => (float)(1 + g.NextInt(vocabulary - 1))).ToArray(), [batch, target]),
        }).ToArray();
        SameAsEager("attention", () =>
        {
            var translator = new AttentionTranslator(vocabulary, source, target, embeddingDim: 8, units: 8, hidden: 16, generator: new Generator(1));
            var opt = new Adam(translator.Model.Parameters(), lr: 3e-3f);
            return new(inputs =>
            {
                opt.ZeroGrad();
                var loss = AttentionTranslator.Loss(translator.Model.Call([inputs[0], inputs[1]])[0], inputs[2]);
                loss.Backward();
                opt.Step();
                return [loss];
            }, () => StateOf([translator.Model], [opt]));
        }, i => pool[i % 3], calls: 4);
    }
}
