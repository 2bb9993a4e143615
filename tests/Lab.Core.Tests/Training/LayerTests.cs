using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Training;

public class LayerTests
{
    private static Sequential ToyMlp(ulong seed = 1)
    {
        var g = new Generator(seed);
        return new Sequential(
            new Linear(2, 10, Activation.Relu, generator: g),
            new Linear(10, 8, Activation.Relu, generator: g),
            new Linear(8, 5, Activation.Softmax, generator: g));
    }

    [Fact]
    public void ToyMlpHasTheSeedsParameterCountAndSummary()
    {
        var model = ToyMlp();
        Assert.Equal(163, model.ParameterCount());
        var summary = model.Summary(1, 2).ToString();
        Assert.Contains("Total params: 163", summary);
        Assert.Contains("(None, 10)", summary);
        Assert.Contains("(None, 5)", summary);
        foreach (var n in new[] { "30", "88", "45" }) Assert.Matches($@"\s{n}\s", summary);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"], model.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void LinearMatchesItsDefinitionAndGlorotBounds()
    {
        var lin = new Linear(3, 4, generator: new Generator(2));
        float limit = MathF.Sqrt(6f / 7);
        Assert.All(lin.Weight.ToArray(), w => Assert.InRange(w, -limit, limit));
        Assert.All(lin.Bias!.ToArray(), b => Assert.Equal(0f, b));
        var x = Tensor.RandN(new Generator(3), [2, 3]);
        var y = lin.Call(x).ToArray();
        var w = lin.Weight.ToArray();
        var xs = x.ToArray();
        for (int i = 0; i < 2; i++)
            for (int o = 0; o < 4; o++)
            {
                double e = 0;
                for (int k = 0; k < 3; k++) e += xs[i * 3 + k] * w[o * 3 + k];
                Assert.Equal(e, y[i * 4 + o], 5);
            }
    }

    [Fact]
    public void PyTorchInitUsesFanInBounds()
    {
        var lin = new Linear(16, 4, init: InitStyle.PyTorch, generator: new Generator(2));
        Assert.All(lin.Weight.ToArray(), w => Assert.InRange(w, -0.25f, 0.25f));
        Assert.Contains(lin.Bias!.ToArray(), b => b != 0);
    }

    [Fact]
    public void Conv2dLayerShapes()
    {
        var conv = new Conv2d(1, 4, 3, activation: Activation.Relu, generator: new Generator(1));
        Assert.Equal(40, conv.ParameterCount());
        Assert.Equal([10, 4, 6, 6], conv.Call(Tensor.Zeros(10, 1, 8, 8)).ShapeArray());
        var up = new ConvTranspose2d(16, 8, 2, generator: new Generator(1));
        Assert.Equal([2, 8, 5, 5], up.Call(Tensor.Zeros(2, 16, 4, 4)).ShapeArray());
    }

    /// <summary>The layers pass every PyTorch option to the op in its place: outputs against the double reference.</summary>
    [Fact]
    public void ConvLayersWithEveryOptionMatchTheReference()
    {
        var conv = new Conv2d(4, 6, (3, 5), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2, init: InitStyle.PyTorch, generator: new Generator(3));
        Assert.Equal([6, 2, 3, 5], conv.Weight.ShapeArray());
        var x = Tensor.RandN(new Generator(4), [2, 4, 7, 9]);
        var y = conv.Call(x);
        var expected = Ops.R.Conv2d(Ops.R.Of(x), Ops.R.Of(conv.Weight), Ops.R.Of(conv.Bias!), (2, 1), (1, 2, 1, 2), (1, 2), groups: 2);
        Assert.Equal(expected.Shape, y.ShapeArray());
        Numeric.AssertClose(expected.Data, y.ToArray(), 1e-5, "Conv2d layer");

        var up = new ConvTranspose2d(6, 4, (2, 3), stride: (2, 3), padding: (0, 1), outputPadding: (1, 2), groups: 2, dilation: (2, 1), generator: new Generator(5));
        Assert.Equal([6, 2, 2, 3], up.Weight.ShapeArray());
        var z = up.Call(y);
        var expectedUp = Ops.R.ConvTranspose2d(Ops.R.Of(y), Ops.R.Of(up.Weight), Ops.R.Of(up.Bias!), (2, 3), (0, 1), (1, 2), (2, 1), groups: 2);
        Assert.Equal(expectedUp.Shape, z.ShapeArray());
        Numeric.AssertClose(expectedUp.Data, z.ToArray(), 1e-5, "ConvTranspose2d layer");

        var same = new Conv2d(4, 4, (2, 4), padding: Padding.SameSize, dilation: (3, 1), groups: 4, bias: false, generator: new Generator(6));
        Assert.Equal([2, 4, 7, 9], same.Call(x).ShapeArray());
        var summary = new Sequential(conv, up, same).Summary(2, 4, 7, 9).ToString();
        Assert.Contains("Conv2d(4 -> 6, 3x5, stride 2x1, dilation 1x2, groups 2)", summary);
        Assert.Equal("ConvTranspose2d(6 -> 4, 2x3, stride 2x3, dilation 2x1, groups 2)", up.Describe()); // wrapped in the table
        Assert.Contains("(None, 4, 10, 15)", summary);
        Assert.Contains("Conv2d(4 -> 4, 2x4, dilation 3x1, groups 4)", summary);
        Assert.Contains($"Total params: {6 * 2 * 15 + 6 + 6 * 2 * 6 + 4 + 4 * 8}", summary);
    }

    [Fact]
    public void BatchNormTrainNormalisesAndUpdatesRunningStatistics()
    {
        var bn = new BatchNorm2d(3, momentum: 0.1f);
        var x = Tensor.RandN(new Generator(4), [8, 3, 4, 4], mean: 2, std: 3);
        var y = bn.Call(x);
        var ys = y.ToArray();
        var xs = x.ToArray();
        for (int c = 0; c < 3; c++)
        {
            var vals = Enumerable.Range(0, 8).SelectMany(n => Enumerable.Range(0, 16).Select(i => ys[(n * 3 + c) * 16 + i])).ToArray();
            Assert.Equal(0, vals.Average(v => (double)v), 4);
            Assert.Equal(1, vals.Average(v => (double)v * v), 2);
            var raw = Enumerable.Range(0, 8).SelectMany(n => Enumerable.Range(0, 16).Select(i => (double)xs[(n * 3 + c) * 16 + i])).ToArray();
            double mean = raw.Average(), unbiased = raw.Sum(v => (v - mean) * (v - mean)) / (raw.Length - 1);
            Assert.Equal(0.1 * mean, bn.RunningMean.ToArray()[c], 4);
            Assert.Equal(0.9 + 0.1 * unbiased, bn.RunningVar.ToArray()[c], 3);
        }
        bn.Eval();
        var e = bn.Call(x).ToArray();
        var rm = bn.RunningMean.ToArray(); var rv = bn.RunningVar.ToArray();
        Assert.Equal((xs[0] - rm[0]) / Math.Sqrt(rv[0] + 1e-5), e[0], 4);
    }

    [Fact]
    public void BatchNormGradientMatchesFiniteDifferences()
    {
        var bn = new BatchNorm1d(2);
        var x = Tensor.RandN(new Generator(5), [5, 2]).RequireGrad();
        var v = Tensor.RandN(new Generator(6), [5, 2]);
        Tensor Loss(Tensor input) => (bn.Call(input) * v).Sum();
        var g = Autograd.Grad([Loss(x)], [x])[0]!.ToArray();
        var xs = x.ToArray();
        using var _ = new NoGrad();
        for (int i = 0; i < xs.Length; i++)
        {
            var p = (float[])xs.Clone(); p[i] += 1e-2f;
            var m = (float[])xs.Clone(); m[i] -= 1e-2f;
            double num = (Loss(Tensor.FromArray(p, [5, 2])).Item() - Loss(Tensor.FromArray(m, [5, 2])).Item()) / 2e-2;
            Assert.Equal(num, g[i], 2);
        }
    }

    [Fact]
    public void DropoutLayerIsIdentityInEval()
    {
        var d = new Dropout(0.5f, new Generator(1));
        var x = Tensor.Ones(100);
        Assert.Contains(0f, d.Call(x).ToArray());
        d.Eval();
        Assert.Equal(x.ToArray(), d.Call(x).ToArray());
    }

    [Fact]
    public void TrainEvalAndZeroGradReachEverySubmodule()
    {
        var model = ToyMlp();
        model.Eval();
        Assert.All(model.NamedModules(), m => Assert.False(m.Module.Training));
        var loss = model.Call(Tensor.Ones(3, 2)).Sum();
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        model.ZeroGrad();
        Assert.All(model.Parameters(), p => Assert.All(p.Grad!.ToArray(), v => Assert.Equal(0f, v)));
    }
}
