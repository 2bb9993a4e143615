using Lab.Core.Autodiff;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Autodiff;

public class AutogradTests
{
    [Fact]
    public void BackwardAccumulatesIntoLeafGrads()
    {
        var x = Tensor.FromArray(1f, 2f, 3f).RequireGrad();
        (x * x).Sum().Backward();
        Assert.Equal([2f, 4f, 6f], x.Grad!.ToArray());
        (x * 3f).Sum().Backward();
        Assert.Equal([5f, 7f, 9f], x.Grad!.ToArray());
    }

    [Fact]
    public void SharedSubexpressionsSumTheirGradients()
    {
        var x = Tensor.FromArray(2f).RequireGrad();
        var y = x * x;          // used twice below
        var z = (y + y * x).Sum(); // d/dx (x^2 + x^3) = 2x + 3x^2 = 16
        z.Backward();
        Assert.Equal(16f, x.Grad!.Item(), 5);
    }

    [Fact]
    public void NoGradRecordsNothingAndDetachCutsTheGraph()
    {
        var x = Tensor.FromArray(1f, 2f).RequireGrad();
        using (new NoGrad())
        {
            var y = x * 2f;
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
        }
        var d = (x * 2f).Detach();
        Assert.False(d.RequiresGrad);
        Assert.True((x * 2f).RequiresGrad);
    }

    [Fact]
    public void GradWithRespectToAnInputImage()
    {
        // The adversarial experiment differentiates a loss with respect to an image, not a parameter.
        var image = Tensor.FromArray([0.1f, 0.2f, 0.3f, 0.4f], [1, 1, 2, 2]).RequireGrad();
        var w = Tensor.FromArray([1f, -1f, 2f, 0.5f], [1, 1, 2, 2]);
        var loss = Tensor.Conv2d(image, w).Sum();
        var g = Autograd.Grad([loss], [image])[0]!;
        Assert.Equal([1f, -1f, 2f, 0.5f], g.ToArray());
        Assert.Null(image.Grad); // Grad() leaves .Grad alone
    }

    [Fact]
    public void GradOfNonLeafInput()
    {
        var x = Tensor.FromArray(1f, 2f).RequireGrad();
        var h = x * 3f;
        var y = (h * h).Sum();
        var g = Autograd.Grad([y], [h])[0]!;
        Assert.Equal([6f, 12f], g.ToArray());
    }

    [Fact]
    public void ThirdDerivativeThroughRepeatedCreateGraph()
    {
        var x = Tensor.FromArray(0.7f).RequireGrad();
        var y = x.Pow(4f).Sum();
        var d1 = Autograd.Grad([y], [x], createGraph: true)[0]!;
        var d2 = Autograd.Grad([d1.Sum()], [x], createGraph: true)[0]!;
        var d3 = Autograd.Grad([d2.Sum()], [x])[0]!;
        Assert.Equal(4 * MathF.Pow(0.7f, 3), d1.Item(), 5);
        Assert.Equal(12 * 0.49f, d2.Item(), 4);
        Assert.Equal(24 * 0.7f, d3.Item(), 4);
    }

    /// <summary>
    /// Hyvärinen's score-matching loss: mean(|s(x)|^2 + 2 tr(ds/dx)) for s a softplus MLP. The trace comes
    /// from input-Jacobian columns built with createGraph, and the loss is then differentiated with respect
    /// to the parameters. Checked against central differences of the same loss in double precision.
    /// </summary>
    [Fact]
    public void ScoreMatchingLossGradientMatchesFiniteDifferences()
    {
        var g = new Generator(5);
        int n = 4, hidden = 5;
        var xs = Tensor.RandN(g, [n, 2]);
        var p = new[] { Tensor.RandN(g, [hidden, 2], 0, 0.7f), Tensor.RandN(g, [hidden], 0, 0.3f), Tensor.RandN(g, [2, hidden], 0, 0.7f), Tensor.RandN(g, [2], 0, 0.3f) };
        foreach (var t in p) t.RequiresGrad = true;

        Tensor Loss()
        {
            var x = xs.Detach().RequireGrad();
            var s = Tensor.MatMul(Tensor.MatMul(x, p[0], false, true).Add(p[1]).Softplus(), p[2], false, true).Add(p[3]);
            Tensor trace = Tensor.Zeros(n);
            for (int i = 0; i < 2; i++)
            {
                var column = Autograd.Grad([s.Narrow(1, i, 1).Sum()], [x], createGraph: true)[0]!;
                trace = trace + column.Narrow(1, i, 1).Reshape(n);
            }
            return ((s * s).Sum(1) + trace * 2f).Mean();
        }

        var loss = Loss();
        loss.Backward();

        var refs = p.Select(R.Of).ToArray();
        var rx = R.Of(xs);
        double RefLoss(R[] q)
        {
            double total = 0;
            for (int r = 0; r < n; r++)
            {
                double x0 = rx.Data[2 * r], x1 = rx.Data[2 * r + 1];
                var pre = new double[hidden]; var act = new double[hidden]; var sig = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    pre[j] = q[0].Data[2 * j] * x0 + q[0].Data[2 * j + 1] * x1 + q[1].Data[j];
                    act[j] = Math.Max(pre[j], 0) + Math.Log(1 + Math.Exp(-Math.Abs(pre[j])));
                    sig[j] = 1 / (1 + Math.Exp(-pre[j]));
                }
                double sq = 0, tr = 0;
                for (int i = 0; i < 2; i++)
                {
                    double s = q[3].Data[i];
                    for (int j = 0; j < hidden; j++) s += q[2].Data[i * hidden + j] * act[j];
                    sq += s * s;
                    for (int j = 0; j < hidden; j++) tr += q[2].Data[i * hidden + j] * sig[j] * q[0].Data[2 * j + i];
                }
                total += sq + 2 * tr;
            }
            return total / n;
        }

        Assert.Equal(RefLoss(refs), loss.Item(), 4);
        for (int k = 0; k < p.Length; k++)
            Numeric.AssertClose(Numeric.Gradient(RefLoss, refs, k, 1e-6), p[k].Grad!.ToArray(), 1e-3, $"score loss d/dparam{k}");
    }

    [Fact]
    public void BroadcastGradientsAreSummedBackToTheInputShape()
    {
        var a = Tensor.Ones(2, 3, 4).RequireGrad();
        var b = Tensor.Ones(3, 1).RequireGrad();
        (a * b).Sum().Backward();
        Assert.Equal([3, 1], b.Grad!.ShapeArray());
        Assert.All(b.Grad.ToArray(), v => Assert.Equal(8f, v));
    }
}
