namespace Lab.Core.Tests.Tracing;

/// <summary>Bit-for-bit comparisons of tensors (float equality would let -0 pass for 0 and fail every NaN).</summary>
internal static class TraceAssert
{
    public static void BitEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.ShapeArray(), actual.ShapeArray());
        BitEqual(expected.ToArray(), actual.ToArray(), what);
    }

    public static void BitEqual(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R} (bits {BitConverter.SingleToInt32Bits(actual[i]):X8}), eager gives {expected[i]:R} (bits {BitConverter.SingleToInt32Bits(expected[i]):X8}).");
    }

    public static void BitEqual(IEnumerable<Tensor> expected, IEnumerable<Tensor> actual, string what)
    {
        var (e, a) = (expected.ToArray(), actual.ToArray());
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++) BitEqual(e[i], a[i], $"{what} {i}");
    }
}
