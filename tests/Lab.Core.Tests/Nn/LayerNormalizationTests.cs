using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

public class LayerNormalizationTests
{
    [Fact]
    public void NormalisesTheLastAxisWithKerasDefaults()
    {
        var layer = new LayerNormalization(6);
        Assert.Equal(1e-3f, layer.Epsilon);
        Assert.Equal(["gamma", "beta"], layer.NamedParameters().Select(p => p.Name));
        using (new NoGrad())
        {
            layer.Gamma!.CopyFrom(Tensor.RandN(new Generator(1), [6]));
            layer.Beta!.CopyFrom(Tensor.RandN(new Generator(2), [6]));
        }
        // Rows with a large mean and a small spread: centring on the row's first element keeps them exact (a plain float
        // mean of values near 1000 is off by about 1e-4, a percent of this spread).
        var x = Tensor.RandN(new Generator(3), [2, 5, 6]) * 0.01f + 1000f;
        var expected = AttentionReference.LayerNorm(R.Of(x), 6, R.Of(layer.Gamma), R.Of(layer.Beta), 1e-3);
        Numeric.AssertClose(expected.Data, layer.Call(x).ToArray(), 1e-4, "layer norm of offset rows");
        var y = new LayerNormalization(6, epsilon: 0).Call(Tensor.RandN(new Generator(4), [3, 6]));
        Assert.All(Enumerable.Range(0, 3), r =>
        {
            var row = y.Narrow(0, r, 1).ToArray();
            Assert.Equal(0, row.Average(), 5);
            Assert.Equal(1, row.Average(v => v * v), 4);
        });
    }

    [Fact]
    public void NormalisesAnInnerAxisAsKeras()
    {
        // axis=1 of [B, T, D]: each (sample, feature) column over the T steps, gamma and beta of size T.
        var layer = new LayerNormalization([4], [1], center: true, scale: true);
        using (new NoGrad()) layer.Gamma!.CopyFrom(Tensor.FromArray([1f, 2, 3, 4]));
        var x = Tensor.RandN(new Generator(5), [2, 4, 3]);
        var y = layer.Call(x);
        var xs = R.Of(x).Permute([0, 2, 1]);
        var expected = AttentionReference.LayerNorm(xs, 4, R.Of(layer.Gamma), null, 1e-3).Permute([0, 2, 1]);
        Assert.Equal([2, 4, 3], y.ShapeArray());
        Numeric.AssertClose(expected.Data, y.ToArray(), 1e-5, "axis 1");
        // Several trailing axes are one fused normalisation.
        var two = new LayerNormalization([4, 3], [-2, -1], center: false, scale: false);
        Assert.Empty(two.Parameters());
        Numeric.AssertClose(AttentionReference.LayerNorm(R.Of(x), 12, null, null, 1e-3).Data, two.Call(x).ToArray(), 1e-5, "axes 1, 2");
    }

    [Fact]
    public void GradientsOfTheLayerMatchFiniteDifferences()
    {
        var layer = new LayerNormalization(5);
        var x = Tensor.RandN(new Generator(6), [3, 5]).RequireGrad();
        var v = Tensor.RandN(new Generator(7), [3, 5]);
        (layer.Call(x) * v).Sum().Backward();
        // d/dbeta = sum over rows of v; d/dgamma = sum over rows of v * normalised x.
        var normalised = AttentionReference.LayerNorm(R.Of(x), 5, null, null, 1e-3);
        var rv = R.Of(v);
        var dGamma = Enumerable.Range(0, 5).Select(j => Enumerable.Range(0, 3).Sum(r => rv.Data[r * 5 + j] * normalised.Data[r * 5 + j])).ToArray();
        var dBeta = Enumerable.Range(0, 5).Select(j => Enumerable.Range(0, 3).Sum(r => rv.Data[r * 5 + j])).ToArray();
        Numeric.AssertClose(dGamma, layer.Gamma!.Grad!.ToArray(), 1e-5, "d gamma");
        Numeric.AssertClose(dBeta, layer.Beta!.Grad!.ToArray(), 1e-5, "d beta");
        // The input gradient of a normalisation sums to zero over each row.
        var dx = x.Grad!;
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(0, dx.Narrow(0, r, 1).Sum().Item(), 5));
    }

    [Fact]
    public void BadShapesNameTheProblem()
    {
        Assert.Contains("axis -1 of size 6", Assert.Throws<ArgumentException>(() => new LayerNormalization(6).Call(Tensor.Zeros(2, 5))).Message);
        Assert.Contains("batch", Assert.Throws<ArgumentException>(() => new LayerNormalization([2], [0])).Message);
        Assert.Contains("trailing", Assert.Throws<ArgumentException>(() => Tensor.LayerNorm(Tensor.Zeros(2, 5), [4])).Message);
        Assert.Contains("weight", Assert.Throws<ArgumentException>(() => Tensor.LayerNorm(Tensor.Zeros(2, 5), [5], Tensor.Ones(4))).Message);
    }
}
