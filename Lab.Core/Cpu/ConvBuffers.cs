namespace Lab.Core.Cpu;

/// <summary>
/// Per-thread convolution workspaces (im2col columns, gathered or GEMM-output rows, partial weight gradients),
/// pinned and grown on demand like <see cref="GemmBuffers"/>, so steady-state convolution allocates nothing.
/// Separate from GEMM's packing buffers because they stay live across the GEMM calls.
/// </summary>
internal static unsafe class ConvBuffers
{
    private const int Alignment = 64;

    [ThreadStatic] private static float[]? s_cols;
    [ThreadStatic] private static float[]? s_rows;
    [ThreadStatic] private static float[]? s_partials;

    /// <summary>im2col columns (C R S x samples OH OW).</summary>
    public static float* Cols(long floats) => Aligned(ref s_cols, floats);

    /// <summary>K x samples OH OW rows: gathered output gradients, or a GEMM's output before it is scattered.</summary>
    public static float* Rows(long floats) => Aligned(ref s_rows, floats);

    /// <summary>The caller's per-worker partial weight gradients, read back after the workers finish.</summary>
    public static float* Partials(long floats) => Aligned(ref s_partials, floats);

    private static float* Aligned(ref float[]? buffer, long floats)
    {
        long needed = floats + Alignment / sizeof(float);
        if (needed > Array.MaxLength) throw new OutOfMemoryException($"Convolution workspace of {floats} floats is too large.");
        if (buffer is null || buffer.Length < needed)
            buffer = GC.AllocateUninitializedArray<float>((int)needed, pinned: true);
        nint address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffer[0]);
        return (float*)((address + Alignment - 1) & ~(nint)(Alignment - 1));
    }
}
