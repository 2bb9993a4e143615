using Lab.Core.Backends;

namespace Lab.Core.Tests.Ops;

/// <summary>Vector kernels have main loops and tails: every length around the vector widths must agree with scalar math.</summary>
public class RemainderTests
{
    public static TheoryData<int> Lengths => new() { 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 129, 257 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void UnaryOpsMatchScalarMathAtEveryLength(int n)
    {
        var g = new Generator((ulong)n);
        var data = new float[n];
        g.FillNormal(data, 0, 3);
        var x = Tensor.FromArray(data, [n]);
        var pos = Tensor.FromArray(data.Select(v => Math.Abs(v) + 0.1f).ToArray(), [n]);
        Check(x.Exp(), data, v => Math.Exp(v));
        Check(pos.Log(), data, v => Math.Log(Math.Abs(v) + 0.1f));
        Check(x.Sigmoid(), data, v => 1 / (1 + Math.Exp(-v)));
        Check(x.Tanh(), data, v => Math.Tanh(v));
        Check(x.Relu(), data, v => Math.Max(v, 0));
        Assert.Equal(data.Select(v => v > 0 ? v : 0.2f * v).ToArray(), x.LeakyRelu(0.2f).ToArray());   // the vector select, bit for bit
        Check(x.Softplus(), data, v => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v))));
        Check(x.Clamp(-1, 2), data, v => Math.Clamp(v, -1, 2));
        Check(x * 2f + 1f, data, v => 2 * v + 1);
        Check(x.Softmax(), data, v => Math.Exp(v) / data.Sum(u => Math.Exp(u)));
        Assert.Equal(data.Sum(v => (double)v), x.Sum().Item(), 3);
        Assert.Equal(data.Max(), x.Max().Item());
        Assert.Equal(Array.IndexOf(data, data.Max()), (int)x.ArgMax(0).Item());
    }

    private static void Check(Tensor y, float[] x, Func<float, double> f)
    {
        var expected = x.Select(f).ToArray();
        Numeric.AssertClose(expected, y.ToArray(), 2e-6, $"length {x.Length}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BinaryOpsAndBroadcastsMatchAtEveryLength(int n)
    {
        var g = new Generator(1000 + (ulong)n);
        var a = Tensor.RandN(g, [3, n]);
        var b = Tensor.RandN(g, [n]);
        var col = Tensor.RandN(g, [3, 1]);
        var ra = R.Of(a); var rb = R.Of(b); var rc = R.Of(col);
        Numeric.AssertClose(R.Zip(ra, rb, (x, y) => x + y).Data, (a + b).ToArray(), 1e-6, "row broadcast add");
        Numeric.AssertClose(R.Zip(ra, rc, (x, y) => x * y).Data, (a * col).ToArray(), 1e-6, "column broadcast mul");
        Numeric.AssertClose(R.Zip(rc, ra, (x, y) => x - y).Data, (col - a).ToArray(), 1e-6, "column broadcast sub");
        Numeric.AssertClose(R.Zip(ra, ra, (x, y) => x / (Math.Abs(y) + 1)).Data, (a / (a.Abs() + 1f)).ToArray(), 1e-6, "same-shape div");
        Numeric.AssertClose(ra.Reduce([0], false, v => v.Sum()).Data, a.Sum(0).ToArray(), 1e-5, "sum over rows");
    }

    [Fact]
    public void SoftplusIsStableForLargeInputs()
    {
        var x = Tensor.FromArray([-1000f, -100f, -20f, 0f, 20f, 100f, 1000f]).RequireGrad();
        var y = x.Softplus();
        var v = y.ToArray();
        Assert.All(v, f => Assert.True(float.IsFinite(f)));
        Assert.Equal(1000f, v[6]);
        Assert.Equal(100f, v[5]);
        Assert.Equal(MathF.Log(2), v[3], 6);
        Assert.Equal(0f, v[0]);
        y.Sum().Backward();
        var gr = x.Grad!.ToArray();
        Assert.Equal(1f, gr[6]);
        Assert.Equal(0.5f, gr[3], 6);
        Assert.Equal(0f, gr[0]);
    }

    [Fact]
    public void LogSoftmaxIsStableForLargeLogits()
    {
        var x = Tensor.FromArray([1000f, 0f, -1000f], [1, 3]);
        var y = x.LogSoftmax().ToArray();
        Assert.Equal(0f, y[0]);
        Assert.Equal(-1000f, y[1]);
        Assert.Equal(-2000f, y[2]);
    }
}
