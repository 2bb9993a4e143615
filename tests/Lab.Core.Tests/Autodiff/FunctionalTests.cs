using Lab.Core.Autodiff;

namespace Lab.Core.Tests.Autodiff;

/// <summary>
/// The function transforms against central differences of the same functions written in double precision, and
/// against each other (forward and reverse Jacobians, Hvp and the Hessian, createGraph against closed forms).
/// </summary>
public class FunctionalTests
{
    private const double Tol = 1e-4;

    // ---- the test functions, on tensors and in double precision ----

    private static readonly float[] A = [0.5f, -1.2f, 0.3f, 0.8f, 1.1f, 0.4f, -0.7f, 0.2f, -0.3f, 0.9f, 0.6f, -1.0f];   // 3 x 4
    private static readonly float[] B = [0.7f, -0.4f, 1.3f, -0.9f, 0.5f, 0.2f];   // 2 x 3

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
    private static double Softplus(double v) => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v)));

    /// <summary>R⁴ → R³: y_i = tanh((A x)_i) sigmoid(x_i) + x_{i+1}².</summary>
    private static Tensor Vector(Tensor x)
    {
        var ax = Tensor.MatMul(Tensor.FromArray(A, [3, 4], x.Device), x.Reshape(4, 1)).Reshape(3);
        return ax.Tanh() * x.Narrow(0, 0, 3).Sigmoid() + x.Narrow(0, 1, 3).Square();
    }

    private static double[] VectorRef(double[] x) => Enumerable.Range(0, 3).Select(i =>
        Math.Tanh(Enumerable.Range(0, 4).Sum(j => A[i * 4 + j] * x[j])) * Sigmoid(x[i]) + x[i + 1] * x[i + 1]).ToArray();

    /// <summary>R³ → R: Σ softplus(B x) + x₀x₁x₂ + (|x|²)²/4.</summary>
    private static Tensor Scalar(Tensor x)
    {
        var bx = Tensor.MatMul(Tensor.FromArray(B, [2, 3], x.Device), x.Reshape(3, 1));
        var product = x.Narrow(0, 0, 1) * x.Narrow(0, 1, 1) * x.Narrow(0, 2, 1);
        return bx.Softplus().Sum() + product.Sum() + (x * x).Sum().Square() * 0.25f;
    }

    private static double ScalarRef(double[] x)
    {
        double s = 0;
        for (int i = 0; i < 2; i++) s += Softplus(Enumerable.Range(0, 3).Sum(j => B[i * 3 + j] * x[j]));
        double n2 = x.Sum(v => v * v);
        return s + x[0] * x[1] * x[2] + n2 * n2 / 4;
    }

    /// <summary>(a [2, 3], b [3]) → [2]: y_r = tanh(Σ_c a_rc b_c) + exp(Σ b / 10) a_r0.</summary>
    private static Tensor TwoInputs(Tensor[] t)
        => (t[0] * t[1]).Sum(1).Tanh() + (t[1].Sum() * 0.1f).Exp() * t[0].Narrow(1, 0, 1).Reshape(2);

    private static double[] TwoInputsRef(double[] ab)   // a then b, flattened
        => Enumerable.Range(0, 2).Select(r =>
            Math.Tanh(Enumerable.Range(0, 3).Sum(c => ab[r * 3 + c] * ab[6 + c])) + Math.Exp((ab[6] + ab[7] + ab[8]) / 10) * ab[r * 3]).ToArray();

    /// <summary>(a [2, 3], b [3]) → R: Σ softplus(a b) + (Σa Σb)² / 10.</summary>
    private static Tensor TwoInputsScalar(Tensor[] t) => (t[0] * t[1]).Softplus().Sum() + (t[0].Sum() * t[1].Sum()).Square() * 0.1f;

    private static double TwoInputsScalarRef(double[] ab)
    {
        double s = 0;
        for (int r = 0; r < 2; r++) for (int c = 0; c < 3; c++) s += Softplus(ab[r * 3 + c] * ab[6 + c]);
        double sa = ab.Take(6).Sum(), sb = ab.Skip(6).Sum();
        return s + sa * sa * sb * sb / 10;
    }

    // ---- numeric references ----

    /// <summary>The m x n Jacobian (row-major) by central differences.</summary>
    private static double[] NumericJacobian(Func<double[], double[]> f, double[] x, double h = 1e-6)
    {
        int m = f(x).Length, n = x.Length;
        var jac = new double[m * n];
        for (int j = 0; j < n; j++)
        {
            var xp = (double[])x.Clone(); xp[j] += h;
            var xm = (double[])x.Clone(); xm[j] -= h;
            var (fp, fm) = (f(xp), f(xm));
            for (int i = 0; i < m; i++) jac[i * n + j] = (fp[i] - fm[i]) / (2 * h);
        }
        return jac;
    }

    /// <summary>The n x n Hessian by second central differences.</summary>
    private static double[] NumericHessian(Func<double[], double> f, double[] x, double h = 1e-4)
    {
        int n = x.Length;
        var hess = new double[n * n];
        double At(int i, double di, int j, double dj) { var y = (double[])x.Clone(); y[i] += di; y[j] += dj; return f(y); }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                hess[i * n + j] = (At(i, h, j, h) - At(i, h, j, -h) - At(i, -h, j, h) + At(i, -h, j, -h)) / (4 * h * h);
        return hess;
    }

    private static double[] MatVec(double[] m, double[] v) => Enumerable.Range(0, m.Length / v.Length)
        .Select(i => Enumerable.Range(0, v.Length).Sum(j => m[i * v.Length + j] * v[j])).ToArray();

    private static double[] VecMat(double[] v, double[] m) => Enumerable.Range(0, m.Length / v.Length)
        .Select(j => Enumerable.Range(0, v.Length).Sum(i => v[i] * m[i * (m.Length / v.Length) + j])).ToArray();

    private static double[] D(Tensor t) => t.ToArray().Select(v => (double)v).ToArray();
    private static double[] D(params Tensor[] ts) => ts.SelectMany(t => t.ToArray()).Select(v => (double)v).ToArray();

    private static Tensor Rand(ulong seed, params int[] shape) => Tensor.RandN(new Generator(seed), shape, std: 0.7f);

    // ---- tests ----

    [Fact]
    public void ReverseAndForwardJacobiansMatchFiniteDifferences()
    {
        var x = Rand(1, 4);
        var expected = NumericJacobian(VectorRef, D(x));
        var reverse = Autograd.Jacobian(Vector, x);
        var forward = Autograd.Jacobian(Vector, x, JacobianMode.Forward);
        Assert.Equal([3, 4], reverse.ShapeArray());
        Assert.Equal([3, 4], forward.ShapeArray());
        Numeric.AssertClose(expected, reverse.ToArray(), Tol, "reverse Jacobian");
        Numeric.AssertClose(expected, forward.ToArray(), Tol, "forward Jacobian");
        Numeric.AssertClose(reverse.ToArray(), forward.ToArray(), 1e-6, "forward against reverse");
    }

    [Fact]
    public void JacobiansOfSeveralInputsHaveTheOutputShapeThenEachInputShape()
    {
        var (a, b) = (Rand(2, 2, 3), Rand(3, 3));
        var expected = NumericJacobian(TwoInputsRef, D(a, b));   // 2 x 9: a's 6 columns, then b's 3
        foreach (var mode in new[] { JacobianMode.Reverse, JacobianMode.Forward })
        {
            var jac = Autograd.Jacobian(TwoInputs, [a, b], mode);
            Assert.Equal([2, 2, 3], jac[0].ShapeArray());
            Assert.Equal([2, 3], jac[1].ShapeArray());
            var ja = Enumerable.Range(0, 2).SelectMany(r => expected.Skip(r * 9).Take(6)).ToArray();
            var jb = Enumerable.Range(0, 2).SelectMany(r => expected.Skip(r * 9 + 6).Take(3)).ToArray();
            Numeric.AssertClose(ja, jac[0].ToArray(), Tol, $"{mode} d/da");
            Numeric.AssertClose(jb, jac[1].ToArray(), Tol, $"{mode} d/db");
        }
    }

    [Fact]
    public void VjpAndJvpAreTheJacobianTimesAVector()
    {
        var x = Rand(4, 4);
        var jac = NumericJacobian(VectorRef, D(x));
        var (v, u) = (Rand(5, 3), Rand(6, 4));
        var (y, vjp) = Autograd.Vjp(Vector, x, v);
        Numeric.AssertClose(VectorRef(D(x)), y.ToArray(), 1e-6, "Vjp output");
        Numeric.AssertClose(VecMat(D(v), jac), vjp.ToArray(), Tol, "vᵀJ");
        var (y2, jvp) = Autograd.Jvp(Vector, x, u);
        Numeric.AssertClose(VectorRef(D(x)), y2.ToArray(), 1e-6, "Jvp output");
        Numeric.AssertClose(MatVec(jac, D(u)), jvp.ToArray(), Tol, "J u");
        Assert.False(vjp.RequiresGrad || jvp.RequiresGrad || y.RequiresGrad);
    }

    [Fact]
    public void JvpOfSeveralInputsSumsTheirDirectionalDerivatives()
    {
        var (a, b) = (Rand(7, 2, 3), Rand(8, 3));
        var (ua, ub) = (Rand(9, 2, 3), Rand(10, 3));
        var expected = MatVec(NumericJacobian(TwoInputsRef, D(a, b)), D(ua, ub));
        var (_, jvp) = Autograd.Jvp(TwoInputs, [a, b], [ua, ub]);
        Numeric.AssertClose(expected, jvp.ToArray(), Tol, "J_a u_a + J_b u_b");
        var (_, vjp) = Autograd.Vjp(TwoInputs, [a, b], Tensor.FromArray(1f, -2f));
        Numeric.AssertClose(VecMat([1, -2], NumericJacobian(TwoInputsRef, D(a, b))), D(vjp[0], vjp[1]).Select(v => (float)v).ToArray(), Tol, "vᵀJ for both inputs");
    }

    [Fact]
    public void HessianOfAScalarFunctionMatchesSecondDifferences()
    {
        var x = Rand(11, 3);
        var hess = Autograd.Hessian(Scalar, x);
        Assert.Equal([3, 3], hess.ShapeArray());
        var expected = NumericHessian(ScalarRef, D(x));
        Numeric.AssertClose(expected, hess.ToArray(), 1e-3, "Hessian");
        var h = hess.ToArray();
        for (int i = 0; i < 3; i++) for (int j = 0; j < i; j++) Assert.Equal(h[i * 3 + j], h[j * 3 + i], 5);
    }

    [Fact]
    public void HessianBlocksOfSeveralInputsMatchSecondDifferences()
    {
        var (a, b) = (Rand(12, 2, 3), Rand(13, 3));
        var blocks = Autograd.Hessian(TwoInputsScalar, [a, b]);
        var full = NumericHessian(TwoInputsScalarRef, D(a, b));   // 9 x 9
        double[] Block(int r0, int rn, int c0, int cn) =>
            Enumerable.Range(r0, rn).SelectMany(r => Enumerable.Range(c0, cn).Select(c => full[r * 9 + c])).ToArray();
        Assert.Equal([2, 3, 2, 3], blocks[0][0].ShapeArray());
        Assert.Equal([2, 3, 3], blocks[0][1].ShapeArray());
        Assert.Equal([3, 2, 3], blocks[1][0].ShapeArray());
        Assert.Equal([3, 3], blocks[1][1].ShapeArray());
        Numeric.AssertClose(Block(0, 6, 0, 6), blocks[0][0].ToArray(), 1e-3, "d²/da²");
        Numeric.AssertClose(Block(0, 6, 6, 3), blocks[0][1].ToArray(), 1e-3, "d²/da db");
        Numeric.AssertClose(Block(6, 3, 0, 6), blocks[1][0].ToArray(), 1e-3, "d²/db da");
        Numeric.AssertClose(Block(6, 3, 6, 3), blocks[1][1].ToArray(), 1e-3, "d²/db²");
    }

    [Fact]
    public void HvpIsTheHessianTimesAVector()
    {
        var x = Rand(14, 3);
        var v = Rand(15, 3);
        var (y, hvp) = Autograd.Hvp(Scalar, x, v);
        Assert.Equal(ScalarRef(D(x)), y.Item(), 4);
        Numeric.AssertClose(MatVec(NumericHessian(ScalarRef, D(x)), D(v)), hvp.ToArray(), 1e-3, "H v");
        Numeric.AssertClose(D(Tensor.MatMul(Autograd.Hessian(Scalar, x), v.Reshape(3, 1)).Reshape(3)), hvp.ToArray(), 1e-5, "H v against the Hessian");

        var (a, b) = (Rand(16, 2, 3), Rand(17, 3));
        var (va, vb) = (Rand(18, 2, 3), Rand(19, 3));
        var (_, blocks) = Autograd.Hvp(TwoInputsScalar, [a, b], [va, vb]);
        var expected = MatVec(NumericHessian(TwoInputsScalarRef, D(a, b)), D(va, vb));
        Numeric.AssertClose(expected, D(blocks[0], blocks[1]).Select(v => (float)v).ToArray(), 1e-3, "H v over two inputs");
    }

    [Fact]
    public void GradAndValueAndGradAreJaxs()
    {
        var x = Rand(20, 3);
        var expected = NumericJacobian(v => [ScalarRef(v)], D(x));
        Numeric.AssertClose(expected, Autograd.Grad(Scalar)(x).ToArray(), Tol, "grad(f)(x)");
        var (value, grad) = Autograd.ValueAndGrad(Scalar)(x);
        Assert.Equal(ScalarRef(D(x)), value.Item(), 4);
        Numeric.AssertClose(expected, grad.ToArray(), Tol, "value_and_grad(f)(x)");
        // grad of grad: the Hessian's diagonal through nested transforms.
        var diagonal = Enumerable.Range(0, 3).Select(i =>
            Autograd.Grad(t => Autograd.Grad(Scalar, createGraph: true)(t).Narrow(0, i, 1).Sum())(x).ToArray()[i]).ToArray();
        var hess = NumericHessian(ScalarRef, D(x));
        Numeric.AssertClose([hess[0], hess[4], hess[8]], diagonal, 1e-3, "grad(grad(f)) diagonal");
    }

    /// <summary>
    /// With createGraph, a transform's result is differentiable with respect to the caller's input: here the
    /// trace of the Jacobian of x ↦ c tanh(x) (Hyvärinen's term), whose gradient is -2c tanh(x)(1 - tanh²(x)).
    /// </summary>
    [Fact]
    public void CreateGraphMakesTheJacobianDifferentiable()
    {
        var xs = new[] { 0.3f, -1.1f, 0.8f };
        var c = Tensor.FromArray(1.5f, -0.5f, 2f);
        var expected = xs.Select((v, i) => -2 * c.ToArray()[i] * Math.Tanh(v) * (1 - Math.Tanh(v) * Math.Tanh(v))).ToArray();
        foreach (var mode in new[] { JacobianMode.Reverse, JacobianMode.Forward })
        {
            var x = Tensor.FromArray(xs).RequireGrad();
            var jac = Autograd.Jacobian(t => t.Tanh() * c, x, mode, createGraph: true);
            var trace = (jac * Tensor.FromArray([1f, 0, 0, 0, 1f, 0, 0, 0, 1f], [3, 3])).Sum();
            Numeric.AssertClose(expected, Autograd.Grad(trace, x)!.ToArray(), 1e-5, $"d tr(J)/dx ({mode})");
        }
        // The same third-order quantity through Jvp and Vjp with createGraph.
        var y = Tensor.FromArray(xs).RequireGrad();
        Tensor? sum = null;
        for (int i = 0; i < 3; i++)
        {
            var e = Tensor.FromArray(Enumerable.Range(0, 3).Select(k => k == i ? 1f : 0f).ToArray());
            var (_, jvp) = Autograd.Jvp(t => t.Tanh() * c, y, e, createGraph: true);
            var term = (jvp * e).Sum();
            sum = sum is null ? term : sum + term;
        }
        Numeric.AssertClose(expected, Autograd.Grad(sum!, y)!.ToArray(), 1e-5, "d tr(J)/dx through Jvp");
        var z = Tensor.FromArray(xs).RequireGrad();
        var (_, vjp) = Autograd.Vjp(t => (t.Tanh() * c).Sum(), z, createGraph: true);
        // vjp = c (1 - tanh²(x)) element-wise, so d sum(vjp)/dx is the same expression.
        Numeric.AssertClose(expected, Autograd.Grad(vjp.Sum(), z)!.ToArray(), 1e-5, "d(vjp)/dx");
    }

    [Fact]
    public void TransformsLeaveTheCallersTensorsAloneAndRunUnderNoGrad()
    {
        var x = Rand(21, 4).RequireGrad();
        Tensor jac;
        using (new NoGrad()) jac = Autograd.Jacobian(Vector, x);
        Assert.Null(x.Grad);
        Assert.False(jac.RequiresGrad);
        Numeric.AssertClose(NumericJacobian(VectorRef, D(x)), jac.ToArray(), Tol, "Jacobian under NoGrad");
    }

    [Fact]
    public void AnOutputThatIgnoresAnInputGivesZeros()
    {
        var (a, b) = (Rand(22, 3), Rand(23, 2));
        var jac = Autograd.Jacobian(t => t[0].Square(), [a, b], JacobianMode.Forward);
        Assert.Equal([3, 2], jac[1].ShapeArray());
        Assert.All(jac[1].ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Autograd.Hessian(t => t.Sum(), a).ToArray(), v => Assert.Equal(0f, v));   // linear: no curvature
        var (_, jvp) = Autograd.Jvp(_ => Tensor.Ones(2), a, a);
        Assert.Equal([0f, 0f], jvp.ToArray());
    }

    [Fact]
    public void WrongShapesAreClearErrors()
    {
        var x = Rand(24, 4);
        var ex = Assert.Throws<ArgumentException>(() => Autograd.Vjp(Vector, x, Tensor.Ones(4)));
        Assert.Equal("Vjp: v has shape [4], expected the shape of the output, [3].", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Autograd.Vjp(Vector, x));
        Assert.Contains("Vjp: v must be given for an output of shape [3]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Autograd.Jvp(Vector, x, Tensor.Ones(3)));
        Assert.Equal("Jvp: tangent 0 has shape [3], expected the shape of input 0, [4].", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Autograd.Hessian(Vector, x));
        Assert.Equal("Hessian: f must return a single element, got shape [3].", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Autograd.Hvp(Scalar, Rand(25, 3), Tensor.Ones(2)));
        Assert.Contains("Hvp: direction 0 has shape [2]", ex.Message);
    }
}
