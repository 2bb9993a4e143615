using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Distributed;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Distributed.Worker;

/// <summary>
/// The training runs the equivalence test makes twice: on N ranks with data parallelism, and in one process on the
/// global batch. Small on purpose (a few seconds on two shared cores); a conv layer, a dense head, shuffling,
/// SGD and Adam, and a global batch (15) that two ranks split 7 + 8, with a last batch of 4, so the weighted average is exercised.
/// </summary>
public static class Recipes
{
    public const int Samples = 64, GlobalBatch = 15, Epochs = 2;

    public static Dataset Data()
    {
        var g = new Generator(7);
        var x = Tensor.RandN(g, [Samples, 1, 5, 5]);
        var labels = new float[Samples];
        var xs = x.ToArray();
        for (int i = 0; i < Samples; i++) labels[i] = (xs[i * 25] + xs[i * 25 + 12] > 0 ? 1 : 0) + (xs[i * 25 + 24] > 0.5f ? 1 : 0);
        return new Dataset(xs, [1, 5, 5], labels, []);
    }

    /// <summary>Each rank starts from a different initialisation (its rank's seed): the broadcast must make them rank 0's.</summary>
    public static Sequential Model(int seed) => new(
        new Conv2d(1, 3, 3, activation: Activation.Relu, generator: new Generator((ulong)seed)),
        new Flatten(),
        new Linear(27, 3, generator: new Generator((ulong)seed + 100)));

    /// <summary>Trainer.Fit, Keras style, with SGD and momentum. Returns the parameters, flattened in order.</summary>
    public static float[] Fit(DataParallel? parallel)
    {
        var model = Model(parallel?.Rank ?? 0);
        var trainer = new Trainer(model) { Distributed = parallel, Output = TextWriter.Null };
        // SGD: a gradient summed instead of averaged (or weighted wrongly) would show at once; Adam would hide the scale.
        trainer.Compile(new Sgd(model.Parameters(), lr: 0.1f, momentum: 0.9f), (p, y) => Losses.CrossEntropy(p, y));
        trainer.Fit(Data(), Epochs, GlobalBatch, generator: new Generator(3), verbose: 0);
        return Flatten(model.Parameters());
    }

    /// <summary>A custom step with two optimizers (a GAN's shape): the features' own loss, then the head's on detached features.</summary>
    public sealed class TwoOptimizerTrainer : Trainer
    {
        private readonly Sequential _net;
        private readonly Adam _features, _head;

        public TwoOptimizerTrainer(Sequential net) : base(net)
        {
            _net = net;
            _features = new Adam(net.Layers[0].Parameters(), lr: 0.02f);
            _head = new Adam(net.Layers[2].Parameters(), lr: 0.01f);
        }

        public override IReadOnlyList<Optimizer> Optimizers => [_features, _head];

        protected override void TrainStep(Batch batch)
        {
            _features.ZeroGrad();
            var h = _net.Layers[1].Call(_net.Layers[0].Call(batch.X));
            var spread = (h * h).Mean();   // keep the features small
            spread.Backward();
            _features.Step();
            _head.ZeroGrad();
            Tensor features;
            using (new NoGrad()) features = _net.Layers[1].Call(_net.Layers[0].Call(batch.X));
            var loss = Losses.CrossEntropy(_net.Layers[2].Call(features), batch.Y);
            loss.Backward();
            _head.Step();
            LossTracker.Update(loss.Detach(), batch.Size);
        }
    }

    public static float[] TwoOptimizers(DataParallel? parallel)
    {
        var model = Model(parallel?.Rank ?? 0);
        var trainer = new TwoOptimizerTrainer(model) { Distributed = parallel, Output = TextWriter.Null };
        trainer.Fit(Data(), Epochs, GlobalBatch, generator: new Generator(3), verbose: 0);
        return Flatten(model.Parameters());
    }

    public static float[] Flatten(IEnumerable<Tensor> tensors) => [.. tensors.SelectMany(t => t.ToArray())];
}
