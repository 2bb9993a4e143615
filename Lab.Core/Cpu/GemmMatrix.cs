namespace Lab.Core.Cpu;

/// <summary>
/// A read-only operand seen through its strides: element (i, j) of op(X) is Ptr[i * RowStride + j * ColStride].
/// A transpose is just swapped strides, so the packing routines never copy a whole transposed matrix.
/// </summary>
internal readonly unsafe struct GemmMatrix
{
    public readonly float* Ptr;
    public readonly nint RowStride, ColStride;

    public GemmMatrix(float* ptr, nint rowStride, nint colStride)
    {
        Ptr = ptr; RowStride = rowStride; ColStride = colStride;
    }

    /// <summary>op(X) for a row-major X with leading dimension ld.</summary>
    public static GemmMatrix Of(float* ptr, int ld, bool transposed) =>
        transposed ? new(ptr, 1, ld) : new(ptr, ld, 1);

    public float* At(int i, int j) => Ptr + i * RowStride + j * ColStride;

    public GemmMatrix Offset(int i, int j) => new(At(i, j), RowStride, ColStride);
}
