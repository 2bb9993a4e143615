using Lab.Core.Backends;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// Where runs each row of the last dimension as one copy, fill or select: every combination of operands broadcast along
/// the row or not, masks that are constant along a row ([B, 1], the recurrent layers' case) or vary, NaN conditions,
/// rank 0 to 3 and empty tensors, against a scalar loop over the broadcast indices.
/// </summary>
public class WhereRowsTests
{
    public static TheoryData<int[], int[], int[]> Shapes => new()
    {
        { [32, 1], [2, 32, 64], [2, 32, 64] },   // a recurrent layer's state under a per-sample mask
        { [32, 1], [32, 64], [32, 1] },
        { [3, 5], [3, 5], [5] },
        { [3, 5], [1], [3, 1] },
        { [1, 5], [4, 1, 1], [3, 5] },
        { [2, 1, 7], [2, 3, 1], [1, 3, 7] },
        { [], [4], [] },
        { [], [], [] },
        { [6], [6], [6] },
        { [1], [17], [1] },
        { [0, 3], [1, 3], [1] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowsGiveTheScalarLoopsValues(int[] condShape, int[] aShape, int[] bShape)
    {
        var g = new Generator(7);
        var cond = Tensor.Rand(g, condShape);
        var values = cond.ToArray();
        // Zeros, ones and NaN among the conditions (NaN != 0 holds, so NaN picks a, as the scalar rule does).
        for (int i = 0; i < values.Length; i++) values[i] = (i % 3) switch { 0 => 0f, 1 => 1f, _ => i % 2 == 0 ? float.NaN : 0.5f };
        cond = Tensor.FromArray(values, condShape);
        var a = Tensor.RandN(g, aShape);
        var b = Tensor.RandN(g, bShape) + 10f;
        var y = Tensor.Where(cond, a, b);

        Span<int> shape = stackalloc int[ShapeUtil.MaxStackRank];
        int rank = ShapeUtil.Broadcast("test", condShape, aShape, shape);
        var outShape = shape[..rank].ToArray();
        rank = ShapeUtil.Broadcast("test", outShape, bShape, shape);
        outShape = shape[..rank].ToArray();
        Assert.Equal(outShape, y.ShapeArray());
        var (c, va, vb, got) = (cond.ToArray(), a.ToArray(), b.ToArray(), y.ToArray());
        var index = new int[outShape.Length];
        for (int i = 0; i < got.Length; i++)
        {
            int rest = i;
            for (int k = outShape.Length - 1; k >= 0; k--) { index[k] = rest % outShape[k]; rest /= outShape[k]; }
            float expected = c[Flat(condShape, index)] != 0 ? va[Flat(aShape, index)] : vb[Flat(bShape, index)];
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(got[i]));
        }
    }

    /// <summary>The element of a tensor of <paramref name="shape"/> that broadcasts to the output index.</summary>
    private static int Flat(int[] shape, int[] outIndex)
    {
        int lead = outIndex.Length - shape.Length, flat = 0;
        for (int k = 0; k < shape.Length; k++) flat = flat * shape[k] + (shape[k] == 1 ? 0 : outIndex[lead + k]);
        return flat;
    }
}
