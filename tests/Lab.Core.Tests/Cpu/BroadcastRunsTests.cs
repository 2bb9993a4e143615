using Lab.Core.Backends;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// Broadcasts whose runs are short take inline vector loops: every run length 1..65 around the 16-lane width, a per-run
/// scalar on either side, a shared row on either side, and in place, against a scalar loop over the broadcast indices.
/// </summary>
public class BroadcastRunsTests
{
    public static TheoryData<int> RunLengths => new() { 1, 2, 5, 15, 16, 17, 25, 31, 32, 33, 36, 47, 63, 64, 65 };

    [Theory]
    [MemberData(nameof(RunLengths))]
    public void ShortRunsGiveTheScalarOpsBits(int run)
    {
        var g = new Generator((ulong)run + 40);
        // [3, 4, run] against a per-(channel) scalar [4, 1], a row [run], a [3, 1, run] slab, and the reverse orders.
        var big = Tensor.RandN(g, [3, 4, run]);
        foreach (var small in new[] { Tensor.RandN(g, [4, 1]), Tensor.RandN(g, [run]), Tensor.RandN(g, [3, 1, run]), Tensor.RandN(g, [1, 4, 1]) })
            foreach (BinaryOp op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div })
            {
                Check(op, big, small);
                Check(op, small, big);
            }
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(3, 40)]
    public void TwoScalarsFillTheWholeOutput(int rows, int cols)
    {
        // An expand of a rank-0 gradient: short (one run of 15) and long (one run of 120, filled).
        foreach (BinaryOp op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div })
        {
            var y = Tensor.Full([rows, cols], float.NaN);
            CpuBackend.Instance.Binary(op, Tensor.Full([1, 1], 3f), Tensor.Full([1], 4f), y);
            Assert.All(y.ToArray(), v => Assert.Equal(op switch { BinaryOp.Add => 7f, BinaryOp.Sub => -1f, BinaryOp.Mul => 12f, _ => 0.75f }, v));
        }
    }

    [Fact]
    public void InPlaceBiasAddReadsEachElementBeforeItsStore()
    {
        var y = Tensor.RandN(new Generator(3), [2, 3, 5, 5]);
        var bias = Tensor.RandN(new Generator(4), [3, 1, 1]);
        var expected = Reference(BinaryOp.Add, y, bias);
        CpuBackend.Instance.Binary(BinaryOp.Add, y, bias, y);
        Assert.Equal(expected, y.ToArray());
    }

    private static void Check(BinaryOp op, Tensor a, Tensor b)
    {
        var expected = Reference(op, a, b);
        var y = Tensor.Empty(Shape(a.Shape, b.Shape));
        CpuBackend.Instance.Binary(op, a, b, y);
        Assert.True(expected.AsSpan().SequenceEqual(y.ToArray()), $"{op} {ShapeUtil.Format(a.Shape)} with {ShapeUtil.Format(b.Shape)}");
    }

    private static int[] Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var shape = new int[Math.Max(a.Length, b.Length)];
        for (int i = 0; i < shape.Length; i++)
        {
            int da = i < shape.Length - a.Length ? 1 : a[i - (shape.Length - a.Length)];
            int db = i < shape.Length - b.Length ? 1 : b[i - (shape.Length - b.Length)];
            shape[i] = Math.Max(da, db);
        }
        return shape;
    }

    /// <summary>Element by element over the broadcast shape, each operand indexed with its own strides (0 where broadcast).</summary>
    private static float[] Reference(BinaryOp op, Tensor a, Tensor b)
    {
        var shape = Shape(a.Shape, b.Shape);
        var (va, vb) = (a.ToArray(), b.ToArray());
        var result = new float[shape.Aggregate(1, (p, d) => p * d)];
        var index = new int[shape.Length];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rem = flat;
            for (int i = shape.Length - 1; i >= 0; i--) { index[i] = rem % shape[i]; rem /= shape[i]; }
            float x = va[Offset(a.Shape, index)], y = vb[Offset(b.Shape, index)];
            result[flat] = op switch { BinaryOp.Add => x + y, BinaryOp.Sub => x - y, BinaryOp.Mul => x * y, _ => x / y };
        }
        return result;
    }

    private static int Offset(ReadOnlySpan<int> shape, int[] index)
    {
        int lead = index.Length - shape.Length, offset = 0;
        for (int i = 0; i < shape.Length; i++) offset = offset * shape[i] + (shape[i] == 1 ? 0 : index[lead + i]);
        return offset;
    }
}
