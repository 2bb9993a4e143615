using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>Every activation (through Keras's <see cref="Activation"/> argument) and every loss, each reduction, batch 1 included.</summary>
public static partial class OpRegistry
{
    private static Input Unit(params int[] shape) => new(shape, Domain.Unit);

    private static R Reduced(R perElement, Reduction reduction) => reduction switch
    {
        Reduction.Mean => new R([perElement.Data.Average()], []),
        Reduction.Sum => new R([perElement.Data.Sum()], []),
        _ => perElement,
    };

    private static R Neg(R r) => r.Map(v => -v);

    /// <summary>Keras's log of probabilities: each row divided by its sum, clipped to [eps, 1 - eps], logged.</summary>
    private static R KerasLog(R p)
    {
        var sums = p.Reduce([1], true, g => g.Sum());
        return R.Zip(p, sums, (v, s) => Math.Log(Math.Clamp(v / s, Losses.ProbabilityEpsilon, 1 - Losses.ProbabilityEpsilon)));
    }

    private static IEnumerable<OpCase> ActivationsAndLosses()
    {
        foreach (var a in Enum.GetValues<Activation>())
        {
            Func<R, R> reference = a switch
            {
                Activation.None => r => r,
                Activation.Relu => r => r.Map(x => Math.Max(x, 0)),
                Activation.LeakyRelu => r => r.Map(x => x > 0 ? x : 0.3 * x),
                Activation.Sigmoid => r => r.Map(Sigmoid),
                Activation.Tanh => r => r.Map(Math.Tanh),
                Activation.Softplus => r => r.Map(Softplus),
                Activation.Softmax => r => r.Softmax(1, false),
                _ => throw new ArgumentOutOfRangeException(nameof(a), a, "An activation without a reference."),
            };
            var domain = a is Activation.Relu or Activation.LeakyRelu ? Domain.AwayFromZero : Domain.Normal;
            yield return new($"Activation{a}[1,7]", [new Input([1, 7], domain)], t => Activations.Apply(a, t[0]), r => reference(r[0]));
        }

        var reductions = new[] { (Reduction.Mean, "Mean"), (Reduction.Sum, "Sum"), (Reduction.None, "None") };
        // Shapes per reduction: a batch, a batch of 1, an odd batch.
        int[][] batches = [[5, 3], [1, 4], [7, 5]];
        for (int k = 0; k < 3; k++)
        {
            var (red, tag) = reductions[k];
            int n = batches[k][0], c = batches[k][1];
            yield return new($"CrossEntropy{tag}[{n},{c}]", [I(n, c), Idx(c, n)], t => Losses.CrossEntropy(t[0], t[1], red),
                r => Reduced(Neg(r[0].Softmax(1, true).Gather(Ints(r[1]))), red));
            yield return new($"Nll{tag}[{n},{c}]", [I(n, c), Idx(c, n)], t => Losses.Nll(t[0], t[1], red),
                r => Reduced(Neg(r[0].Gather(Ints(r[1]))), red));
            // Keras's two forms: logits through a log-softmax; probabilities divided by their row sum, clipped, logged.
            yield return new($"SparseCceFromLogits{tag}[{n},{c}]", [I(n, c), Idx(c, n)], t => Losses.SparseCategoricalCrossEntropy(t[0], t[1], red, fromLogits: true),
                r => Reduced(Neg(r[0].Softmax(1, true).Gather(Ints(r[1]))), red));
            yield return new($"SparseCceOfProbabilities{tag}[{n},{c}]", [Unit(n, c), Idx(c, n)], t => Losses.SparseCategoricalCrossEntropy(t[0], t[1], red),
                r => Reduced(Neg(KerasLog(r[0]).Gather(Ints(r[1]))), red));
            // A softmax output is not looked through: the probability form on it is the clipped log of its output.
            yield return new($"SparseCceOfSoftmaxOutput{tag}[{n},{c}]", [I(n, c), Idx(c, n)], t => Losses.SparseCategoricalCrossEntropy(t[0].Softmax(1), t[1], red),
                r => Reduced(Neg(KerasLog(r[0].Softmax(1, false)).Gather(Ints(r[1]))), red));
            yield return new($"CceFromLogits{tag}[{n},{c}]", [I(n, c), Unit(n, c)], t => Losses.CategoricalCrossEntropy(t[0], t[1], red, fromLogits: true),
                r => Reduced(Neg(R.Zip(r[1], r[0].Softmax(1, true), (y, l) => y * l).Reduce([1], false, g => g.Sum())), red));
            yield return new($"CceOfProbabilities{tag}[{n},{c}]", [Unit(n, c), Unit(n, c)], t => Losses.CategoricalCrossEntropy(t[0], t[1], red),
                r => Reduced(Neg(R.Zip(r[1], KerasLog(r[0]), (y, l) => y * l).Reduce([1], false, g => g.Sum())), red));
            yield return new($"Mse{tag}[{n},{c}]", [I(n, c), I(n, c)], t => Losses.Mse(t[0], t[1], red),
                r => red == Reduction.None
                    ? R.Zip(r[0], r[1], (x, y) => (x - y) * (x - y)).Reduce([1], false, g => g.Average())
                    : Reduced(R.Zip(r[0], r[1], (x, y) => (x - y) * (x - y)), red));
            yield return new($"GaussianKl{tag}[{n},{c}]", [I(n, c), I(n, c)], t => Losses.GaussianKl(t[0], t[1], red),
                r =>
                {
                    var kl = R.Zip(r[0], r[1], (mu, l) => (Math.Exp(l) + mu * mu - l - 1) / 2);
                    return red == Reduction.None ? kl.Reduce([1], false, g => g.Sum()) : Reduced(kl, red);
                });
            // Targets are differentiated too (soft labels), as PyTorch allows.
            yield return new($"BceWithLogits{tag}[{n},{c}]", [I(n, c), Unit(n, c)], t => Losses.BinaryCrossEntropyWithLogits(t[0], t[1], red),
                r => Reduced(R.Zip(r[0], r[1], (x, y) => Softplus(x) - x * y), red));
            yield return new($"Bce{tag}[{n},{c}]", [Unit(n, c), Unit(n, c)], t => Losses.BinaryCrossEntropy(t[0], t[1], red),
                r => Reduced(R.Zip(r[0], r[1], Bce), red));
        }
        yield return new("MseNoneRank3[2,3,2]", [I(2, 3, 2), I(2, 3, 2)], t => Losses.Mse(t[0], t[1], Reduction.None),
            r => R.Zip(r[0], r[1], (x, y) => (x - y) * (x - y)).Reduce([1, 2], false, g => g.Average()));
        yield return new("BceWeighted[2,3]", [Unit(2, 3), Unit(2, 3), Pos(3)], t => Losses.BinaryCrossEntropy(t[0], t[1], weight: t[2]),
            r => Reduced(R.Zip(R.Zip(r[0], r[1], Bce), r[2], (l, w) => l * w), Reduction.Mean));
        yield return new("BceWithLogitsWeighted[2,3]", [I(2, 3), Unit(2, 3), Pos(2, 1)], t => Losses.BinaryCrossEntropyWithLogits(t[0], t[1], Reduction.Sum, t[2]),
            r => Reduced(R.Zip(R.Zip(r[0], r[1], (x, y) => Softplus(x) - x * y), r[2], (l, w) => l * w), Reduction.Sum));
    }

    private static double Bce(double p, double t) => -(t * Math.Max(Math.Log(p), -100) + (1 - t) * Math.Max(Math.Log(1 - p), -100));
}
