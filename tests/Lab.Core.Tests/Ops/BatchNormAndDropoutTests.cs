using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// Batch norm and dropout beyond the registry (which checks their values and gradients to second order): the mask
/// itself, the module's use of the functional form, and the argument errors.
/// </summary>
public class BatchNormAndDropoutTests
{
    [Fact]
    public void DropoutMask_ZeroesAboutPAndScalesTheRestByOneOverOneMinusP_SameForTheSameSeed()
    {
        const float p = 0.3f;
        var x = Tensor.RandN(new Generator(1), [100, 100]);
        var xs = x.ToArray();
        var ys = x.Dropout(p, new Generator(2)).ToArray();
        int dropped = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            if (ys[i] == 0) dropped++;
            else Assert.Equal(xs[i] * (1f / (1 - p)), ys[i]);
        }
        Assert.InRange(dropped / (double)xs.Length, p - 0.02, p + 0.02);
        Assert.Equal(ys, x.Dropout(p, new Generator(2)).ToArray());
        Assert.NotEqual(ys, x.Dropout(p, new Generator(3)).ToArray());
        Assert.Same(x, x.Dropout(p, new Generator(2), training: false));
    }

    [Fact]
    public void BatchNormModule_IsTheFunctionalFormWithItsState()
    {
        var bn = new BatchNorm2d(3, momentum: 0.2f);
        using (new Lab.Core.Autodiff.NoGrad()) { bn.Weight.CopyFrom([1.5f, -0.5f, 2f]); bn.Bias.CopyFrom([0.1f, 0.2f, -0.3f]); }
        var x = Tensor.RandN(new Generator(4), [4, 3, 2, 5]);
        var (mean, variance) = (Tensor.Zeros(3), Tensor.Ones(3));
        Assert.Equal(Tensor.BatchNorm(x, mean, variance, bn.Weight, bn.Bias, training: true, momentum: 0.2f).ToArray(), bn.Call(x).ToArray());
        Assert.Equal(mean.ToArray(), bn.RunningMean.ToArray());
        Assert.Equal(variance.ToArray(), bn.RunningVar.ToArray());
        bn.Eval();
        Assert.Equal(Tensor.BatchNorm(x, mean, variance, bn.Weight, bn.Bias, training: false).ToArray(), bn.Call(x).ToArray());
    }

    private static void Throws(Action act, params string[] fragments)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void BatchNormBadArguments_NameTheOpTheShapesAndTheRule()
    {
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(1, 4), null, null, null, null, training: true), "BatchNorm", "more than one value per channel", "[1, 4]");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(2, 4), null, null, null, null, training: false), "BatchNorm", "running mean and variance", "[2, 4]");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(2, 4), null, null, Tensor.Ones(3), null, training: true), "BatchNorm", "weight", "[4]", "[3]");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(4), null, null, null, null, training: true), "BatchNorm", "N x C", "[4]");
        Throws(() => new BatchNorm1d(3).Call(Tensor.Zeros(1, 3)), "BatchNorm", "more than one value per channel");
    }
}
