using Lab.Core.Cpu;
using Xunit;

namespace Lab.Core.Tests.Cpu;

/// <summary>Bad arguments fail up front with a message naming the argument and the sizes.</summary>
public class GemmArgsTests
{
    private static readonly float[] Big = new float[1000];

    [Fact]
    public void ShortA_NamesLengthAndShape()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 10, 4, 12, 1f, new float[100], 12, Big, 4, 0f, Big, 4));
        Assert.Equal("a", ex.ParamName);
        Assert.StartsWith("Sgemm: a has 100 elements, needs at least 120 for m=10, k=12, lda=12", ex.Message);
    }

    [Fact]
    public void ShortTransposedB_CountsTheStoredShape()
    {
        // B^T stored as n x k = 6 x 5 with ldb 7: needs 5 * 7 + 5 = 40.
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, true, 3, 6, 5, 1f, Big, 5, new float[39], 7, 0f, Big, 6));
        Assert.StartsWith("Sgemm: b has 39 elements, needs at least 40 for k=5, n=6, ldb=7, transB=true", ex.Message);
    }

    [Fact]
    public void ShortC_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 4, 4, 4, 1f, Big, 4, Big, 4, 0f, new float[15], 4));
        Assert.Equal("c", ex.ParamName);
        Assert.Contains("c has 15 elements, needs at least 16 for m=4, n=4, ldc=4", ex.Message);
    }

    [Fact]
    public void LeadingDimensionBelowRowLength_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(true, false, 10, 4, 12, 1f, Big, 9, Big, 4, 0f, Big, 4));
        Assert.Equal("lda", ex.ParamName);
        Assert.Contains("lda=9 is less than the row length 10 of a", ex.Message);
    }

    [Theory]
    [InlineData(-1, 1, 1, "m")]
    [InlineData(1, -2, 1, "n")]
    [InlineData(1, 1, -3, "k")]
    public void NegativeDimension_Throws(int m, int n, int k, string name)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, m, n, k, 1f, Big, 10, Big, 10, 0f, Big, 10));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains("must be non-negative", ex.Message);
    }

    [Fact]
    public void BatchedOperandTooShortForAllMatrices_NamesBatchAndStride()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 2, 2, 1f, new float[11], 2, 4, Big, 2, 4, 0f, Big, 2, 4, 3));
        Assert.StartsWith("SgemmBatched: a has 11 elements, needs at least 12 for batch=3, strideA=4, m=2, k=2, lda=2",
            ex.Message);
    }

    [Fact]
    public void BatchedOverlappingOutputs_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 2, 2, 1f, Big, 2, 4, Big, 2, 0, 0f, Big, 2, 3, 3));
        Assert.Equal("strideC", ex.ParamName);
    }

    [Fact]
    public void NegativeStride_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 2, 2, 1f, Big, 2, -4, Big, 2, 4, 0f, Big, 2, 4, 2));
        Assert.Equal("strideA", ex.ParamName);
    }

    [Fact]
    public void MaxThreadsBelowOne_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MaxThreads = 0);
}
