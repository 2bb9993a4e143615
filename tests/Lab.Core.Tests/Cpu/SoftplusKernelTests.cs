using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>The eight-lane softplus gives the scalar formula's bits, on every tail length and across its branches.</summary>
public class SoftplusKernelTests
{
    [Fact]
    public void VectorLanesGiveTheScalarFormulasBitsEverywhere()
    {
        // Far below zero (Goldberg's branch, u < 1e-6, and where 1 + u rounds to 1), the plain branch, far above,
        // and the special values, spread over whole vectors.
        var values = new List<float> { 0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon,
            float.MaxValue, float.MinValue, -13.8155f, -13.8156f, -36.7f, -37.5f, -88.7f, -103.97f, -104f, -745f };
        var rng = new Random(5);
        for (int i = 0; i < 4000; i++) values.Add((float)(rng.NextDouble() * 240 - 120));
        for (int i = 0; i < 1000; i++) values.Add((float)(rng.NextDouble() * 2 - 15));
        var x = values.ToArray();
        var y = new float[x.Length];
        SoftplusKernel.Forward(x, y);
        for (int i = 0; i < x.Length; i++)
            Assert.True(y[i].Equals(Expected(x[i])), $"softplus({x[i]:R}): expected {Expected(x[i]):R}, got {y[i]:R}");
    }

    [Fact]
    public void EveryLengthCoversItsTail()
    {
        var rng = new Random(6);
        for (int n = 0; n <= 40; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 40 - 20)).ToArray();
            var y = Enumerable.Repeat(float.NaN, n + 1).ToArray();
            SoftplusKernel.Forward(x, y.AsSpan(0, n));
            for (int i = 0; i < n; i++) Assert.Equal(Expected(x[i]), y[i]);
            Assert.True(float.IsNaN(y[n]), $"length {n}: wrote past the end");
        }
    }

    /// <summary>The formula written out independently: max(x, 0) + log1p(exp(-|x|)), log1p with Goldberg's correction.</summary>
    private static float Expected(float v)
    {
        double u = Math.Exp(-Math.Abs(v)), w = 1 + u;
        double log1p = u >= 1e-6 ? Math.Log(w) : w == 1 ? u : Math.Log(w) * (u / (w - 1));
        return MathF.Max(v, 0) + (float)log1p;
    }
}
