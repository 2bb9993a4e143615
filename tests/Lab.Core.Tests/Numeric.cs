namespace Lab.Core.Tests;

public static class Numeric
{
    /// <summary>Central-difference gradient of f with respect to inputs[index], in double precision.</summary>
    public static double[] Gradient(Func<Ops.R[], double> f, Ops.R[] inputs, int index, double h)
    {
        var x = inputs[index].Data;
        var grad = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            double saved = x[j];
            x[j] = saved + h; double fp = f(inputs);
            x[j] = saved - h; double fm = f(inputs);
            x[j] = saved;
            grad[j] = (fp - fm) / (2 * h);
        }
        return grad;
    }

    /// <summary>|expected - actual| &lt;= tol * (1 + |expected|) element-wise, with the worst element named on failure.</summary>
    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tol, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0; int at = -1;
        for (int i = 0; i < expected.Count; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            double err = Math.Abs(e - a) / (1 + Math.Abs(e));
            if (double.IsNaN(err) || err > worst) { worst = double.IsNaN(err) ? double.PositiveInfinity : err; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: element {at} expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)} (relative error {worst:E2} > {tol:E0}).");
    }

    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tol, string what)
        => AssertClose(expected.Select(v => (double)v).ToArray(), actual, tol, what);
}
