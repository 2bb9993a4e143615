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

    /// <summary>The conv net with a batch norm after the convolution, for the synchronised batch norm test.</summary>
    public static Sequential BatchNormModel(int seed) => new(
        new Conv2d(1, 3, 3, generator: new Generator((ulong)seed)),
        new BatchNorm2d(3),
        new Flatten(),
        new Linear(27, 3, generator: new Generator((ulong)seed + 100)));

    /// <summary>
    /// Fit of <see cref="BatchNormModel"/>, with the batch norm synchronised over the ranks or not (local statistics).
    /// Returns the parameters and then the running statistics, flattened in order.
    /// </summary>
    public static float[] FitBatchNorm(DataParallel? parallel, bool sync)
    {
        var model = BatchNormModel(parallel?.Rank ?? 0);
        var trainer = new Trainer(model) { Distributed = parallel, SyncBatchNorm = sync, Output = TextWriter.Null };
        trainer.Compile(new Sgd(model.Parameters(), lr: 0.1f, momentum: 0.9f), (p, y) => Losses.CrossEntropy(p, y));
        trainer.Fit(Data(), Epochs, GlobalBatch, generator: new Generator(3), verbose: 0);
        return Flatten(model.StateDict().Select(s => s.Tensor));
    }

    /// <summary>
    /// The gradient and a Hessian-vector product (the gradient of the gradient along a fixed direction) of the
    /// cross-entropy of <see cref="BatchNormModel"/> with a synchronised batch norm, on the first global batch split
    /// 7 + 8 over two ranks (the whole of it in one process): each rank's results weighted by its share and summed over
    /// the ranks, as the gradient average does. Second order, so the all-reduce's backward of the backward is exercised.
    /// </summary>
    public static float[] BatchNormHessianVector(DataParallel? parallel)
    {
        var model = BatchNormModel(0);
        int rank = parallel?.Rank ?? 0, size = parallel?.Size ?? 1;
        int from = GlobalBatch * rank / size, to = GlobalBatch * (rank + 1) / size;
        if (parallel is not null)
        {
            parallel.ConvertSyncBatchNorm(model);
            parallel.LocalShare = (float)(to - from) / GlobalBatch;
        }
        var data = Data();
        var x = data.FeaturesTensor().Narrow(0, from, to - from);
        var y = data.TargetsTensor().Narrow(0, from, to - from);
        var parameters = model.Parameters().ToArray();
        var loss = Losses.CrossEntropy(model.Call(x), y);
        var grads = Autograd.Grad([loss], parameters, createGraph: true, materializeUnused: true);
        var g = new Generator(9);
        var directional = parameters.Select((p, i) => (grads[i]! * Tensor.RandN(g, p.Shape)).Sum()).Aggregate((a, b) => a + b);
        var hessianVector = Autograd.Grad([directional], parameters, materializeUnused: true);
        var values = Flatten(grads.Concat(hessianVector).Select(t => t!.Detach()));
        if (parallel is not null)
        {
            for (int i = 0; i < values.Length; i++) values[i] *= parallel.LocalShare;
            parallel.Communicator.AllReduce(values.AsSpan());
        }
        return values;
    }

    public static float[] Flatten(IEnumerable<Tensor> tensors) => [.. tensors.SelectMany(t => t.ToArray())];
}
