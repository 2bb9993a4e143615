using Lab.Core.Backends;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

/// <summary>
/// Fused element-wise chains against the eager kernels, bit for bit, on lengths around the vector widths and the
/// block size (1, 3, 17, 4095, 4097, 10001) and one long enough to split over the worker pool (70001).
/// </summary>
public class FusedChainTests
{
    public static readonly int[] Lengths = [1, 3, 17, 4095, 4097, 10001, 70001];

    public static IEnumerable<object[]> UnaryCases() =>
        from op in new (UnaryOp Op, float Alpha, float Beta)[]
        {
            (UnaryOp.Neg, 0, 0), (UnaryOp.Exp, 0, 0), (UnaryOp.Log, 0, 0), (UnaryOp.Sqrt, 0, 0), (UnaryOp.Abs, 0, 0), (UnaryOp.Sign, 0, 0),
            (UnaryOp.Relu, 0, 0), (UnaryOp.LeakyRelu, 0.1f, 0), (UnaryOp.Sigmoid, 0, 0), (UnaryOp.Tanh, 0, 0), (UnaryOp.Softplus, 0, 0),
            (UnaryOp.Pow, 2, 0), (UnaryOp.Pow, 3, 0), (UnaryOp.Pow, 0.5f, 0), (UnaryOp.Pow, 0, 0), (UnaryOp.Affine, 2, 1), (UnaryOp.Affine, -3, 0),
            (UnaryOp.Clamp, -1, 1),
        }
        from n in Lengths
        select new object[] { op.Op, op.Alpha, op.Beta, n };

    public static IEnumerable<object[]> BinaryCases() =>
        from op in Enum.GetValues<BinaryOp>() from n in Lengths select new object[] { op, n };

    /// <summary>Inputs with the values kernels treat specially: zeros, negatives, large magnitudes, below sigmoid's -80 fix-up.</summary>
    private static Tensor Input(ulong seed, int n)
    {
        var values = new float[n];
        new Generator(seed).FillNormal(values, 0, 3);
        for (int i = 0; i < n; i += 7) values[i] = (i / 7 % 4) switch { 0 => 0f, 1 => -90f, 2 => 40f, _ => MathF.Round(values[i]) };
        return Tensor.FromArray(values, [n]);
    }

    /// <summary>
    /// Runs <paramref name="step"/> eagerly and traced over four calls with changing inputs and compares every output bit
    /// for bit; the trace must have fused its element-wise calls.
    /// </summary>
    private static void SameAsEager(Func<Tensor[], Tensor[]> step, int n, int minFusedCalls)
    {
        using var trace = TracedStep.Create("chain", step);
        for (ulong call = 0; call < 4; call++)
        {
            Tensor[] inputs = [Input(10 + call, n), Input(20 + call, n), Input(30 + call, n).Gt(0f)];
            var expected = step(inputs);
            var actual = trace.Run(inputs);
            TraceAssert.BitEqual(expected, actual, $"length {n}, output");
        }
        Assert.True(trace.FusedChains >= 1, trace.Describe());
        Assert.Contains($"fused x{minFusedCalls}", trace.Describe());
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Unary_and_its_gradient_fused_match_eager(UnaryOp op, float alpha, float beta, int n)
    {
        SameAsEager(inputs =>
        {
            var (x, g) = (inputs[0], inputs[1]);
            var b = x.Backend;
            var (y, dx, z, w) = (Tensor.Empty([n]), Tensor.Empty([n]), Tensor.Empty([n]), Tensor.Empty([n]));
            b.Unary(op, x, y, alpha, beta);
            b.UnaryGrad(op, x, y, g, dx, alpha, beta);
            b.Copy(dx, z);
            b.Axpy(0.5f, y, z);
            b.Fill(w, 0.25f);
            b.Unary(op, w, w, alpha, beta);   // in place
            return [y, dx, z, w];
        }, n, minFusedCalls: 6);
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary_with_a_one_element_operand_and_where_fused_match_eager(BinaryOp op, int n)
    {
        SameAsEager(inputs =>
        {
            var (a, c, cond) = (inputs[0], inputs[1], inputs[2]);
            var b = a.Backend;
            var s = Tensor.FromArray([1.5f]);
            var (y, left, right, w) = (Tensor.Empty([n]), Tensor.Empty([n]), Tensor.Empty([n]), Tensor.Empty([n]));
            b.Binary(op, a, c, y);
            b.Binary(op, y, s, left);
            b.Binary(op, s, c, right);
            b.Where(cond, left, right, w);
            return [y, left, right, w];
        }, n, minFusedCalls: 4);
    }

    [Fact]
    public void Overlapping_views_of_one_buffer_at_different_offsets_are_not_fused_together()
    {
        // The second call reads buf[n/2, 3n/2), half of which the first call writes: run block by block, its first
        // block would read elements the first call has not written yet.
        const int n = 10000;
        Tensor[] Step(Tensor[] inputs)
        {
            var x = inputs[0];
            var (buf, output) = (Tensor.Empty([2 * n]), Tensor.Empty([n]));
            var b = x.Backend;
            b.Fill(buf, 1f);
            b.Unary(UnaryOp.Tanh, x, new StorageView(buf.Storage, 0, [n]));
            b.Copy(new StorageView(buf.Storage, n / 2, [n]), output);
            return [output];
        }
        using var trace = TracedStep.Create("offsets", Step);
        for (ulong call = 0; call < 3; call++)
        {
            var x = Input(call, n);
            TraceAssert.BitEqual(Step([x])[0], trace.Run(x)[0], "output");
        }
        Assert.Equal(0, trace.FusedChains);
    }

    [Fact]
    public void Without_fusion_the_plan_is_the_recording()
    {
        using var trace = TracedStep.Create("plain", x => (x.Tanh() * 2f).Exp(), new TraceOptions { Fuse = false });
        var x = Input(1, 100);
        for (int i = 0; i < 3; i++) trace.Run(x);
        Assert.Equal(0, trace.FusedChains);
        Assert.Equal(trace.RecordedKernelCalls, trace.PlannedEntries);
    }
}
