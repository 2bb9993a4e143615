using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Core.Tests.Nn;

public class RegularizerTests
{
    [Fact]
    public void PenaltiesAreKerasFormulas()
    {
        var w = Tensor.FromArray([1f, -2, 0.5f, 3], [2, 2]);
        Assert.Equal(0.01 * 6.5, Regularizers.L1().Penalty(w).Item(), 6);
        Assert.Equal(0.01 * 14.25, Regularizers.L2().Penalty(w).Item(), 6);
        Assert.Equal(0.1 * 6.5 + 0.2 * 14.25, Regularizers.L1L2(0.1f, 0.2f).Penalty(w).Item(), 5);
        Assert.Equal(0, Regularizers.L1L2().Penalty(w).Item());
        Assert.Contains("non-negative", Assert.Throws<ArgumentException>(() => Regularizers.L2(-1)).Message);
    }

    [Fact]
    public void TheModelCollectsWeightAndActivityPenalties()
    {
        var dense = new Linear(3, 2, generator: new Generator(1), kernelRegularizer: Regularizers.L2(0.1f), biasRegularizer: Regularizers.L1(0.5f),
            activityRegularizer: Regularizers.L1(0.01f));
        using (new NoGrad()) dense.Bias!.CopyFrom(Tensor.FromArray([0.5f, -1f]));
        var conv = new Conv2d(1, 2, 3, kernelRegularizer: Regularizers.L1(0.2f), generator: new Generator(2));
        var model = new Sequential(dense, new Sequential(new ReLU()));
        Assert.Null(new Sequential(new Linear(3, 2)).RegularizationLoss());
        var x = Tensor.RandN(new Generator(3), [4, 3]);
        var y = model.Call(x);
        double expected = 0.1 * Sum(dense.Weight, v => v * v) + 0.5 * 1.5 + 0.01 * Sum(Linear(x, dense), Math.Abs);
        Assert.Equal(expected, model.RegularizationLoss()!.Item(), 5);
        Assert.Equal(0.2 * Sum(conv.Weight, Math.Abs), conv.RegularizationLoss()!.Item(), 5);
        // The activity penalties are those of the last outermost call, not an accumulation over calls.
        model.Call(x);
        Assert.Equal(expected, model.RegularizationLoss()!.Item(), 5);
        _ = y;
    }

    private static double Sum(Tensor t, Func<double, double> f) => t.ToArray().Sum(v => f(v));
    private static Tensor Linear(Tensor x, Linear l) { using var _ = new NoGrad(); return Tensor.MatMul(x, l.Weight, false, true) + l.Bias!; }

    [Fact]
    public void TheGradientOfTheTotalLossIncludesTwoL2W()
    {
        var dense = new Linear(3, 2, generator: new Generator(4), kernelRegularizer: Regularizers.L2(0.3f));
        var plain = new Linear(3, 2, generator: new Generator(4));
        var x = Tensor.RandN(new Generator(5), [6, 3]);
        (dense.Call(x).Square().Mean() + dense.RegularizationLoss()!).Backward();
        plain.Call(x).Square().Mean().Backward();
        var expected = plain.Weight.Grad!.ToArray().Zip(dense.Weight.ToArray(), (g, w) => g + 2 * 0.3 * w).ToArray();
        Numeric.AssertClose(expected, dense.Weight.Grad!.ToArray(), 1e-5, "d total / d W");
        Numeric.AssertClose(plain.Bias!.Grad!.ToArray(), dense.Bias!.Grad!.ToArray(), 1e-6, "bias: no penalty");
    }

    [Fact]
    public void AWeightRegularizerNeedsTheModulesOwnParameter()
    {
        var a = new Linear(2, 2);
        var b = new Linear(2, 2);
        Assert.Contains("own registered parameters", Assert.Throws<ArgumentException>(() => a.AddWeightRegularizer(b.Weight, Regularizers.L2())).Message);
        a.AddWeightRegularizer(a.Weight, Regularizers.L2(1f));
        Assert.Equal(Sum(a.Weight, v => v * v), a.RegularizationLoss()!.Item(), 5);
    }

    private static (Trainer Trainer, Linear Layer) Fit(Regularizer? regularizer, out History history)
    {
        var g = new Generator(7);
        var x = Tensor.RandN(g, [64, 10]);
        var y = (x.Narrow(1, 0, 1) * 2f - x.Narrow(1, 1, 1)) + Tensor.RandN(g, [64, 1]) * 0.5f;
        var layer = new Linear(10, 1, generator: new Generator(8), kernelRegularizer: regularizer);
        var trainer = new Trainer(new Sequential(layer)) { LiveProgress = false };
        trainer.Compile(new Adam(layer.Parameters(), lr: 0.05f), (p, t) => Losses.Mse(p, t));
        history = trainer.Fit(Dataset.FromTensors(x, y), 30, batchSize: 16, verbose: 0, shuffle: false);
        return (trainer, layer);
    }

    [Fact]
    public void TrainingWithL2GivesSmallerWeightsAndReportsThePenaltyInTheLoss()
    {
        var (_, plain) = Fit(null, out _);
        var (trainer, l2) = Fit(Regularizers.L2(0.5f), out var history);
        double Norm(Linear l) => Math.Sqrt(Sum(l.Weight, v => v * v));
        Assert.True(Norm(l2) < 0.8 * Norm(plain), $"weight norm with L2 {Norm(l2)}, without {Norm(plain)}");
        // Keras's reported loss includes the penalty: Evaluate's loss is the MSE plus 0.5 sum w².
        var g = new Generator(7);
        var x = Tensor.RandN(g, [64, 10]);
        var y = (x.Narrow(1, 0, 1) * 2f - x.Narrow(1, 1, 1)) + Tensor.RandN(g, [64, 1]) * 0.5f;
        double mse;
        using (new NoGrad()) mse = Losses.Mse(l2.Call(x), y).Item();
        var logs = trainer.Evaluate(Dataset.FromTensors(x, y), batchSize: 64, verbose: 0);
        double penalty = 0.5 * Sum(l2.Weight, v => v * v);
        Assert.Equal(mse + penalty, logs["loss"], 4);
        // Fit's history too: the last epoch's mean loss (weights nearly settled) is the MSE plus the penalty.
        Assert.True(Math.Abs(history["loss"][^1] - (mse + penalty)) < 0.25 * penalty, $"history loss {history["loss"][^1]}, mse {mse}, penalty {penalty}");
    }
}
