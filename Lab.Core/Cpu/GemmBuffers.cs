namespace Lab.Core.Cpu;

/// <summary>
/// Per-thread packing buffers, allocated once on the pinned object heap and reused by every later call,
/// so steady-state GEMM allocates nothing and the kernel can hold raw pointers without `fixed`.
/// </summary>
internal static unsafe class GemmBuffers
{
    private const int Alignment = 64; // one cache line; also the natural alignment of a zmm load.

    [ThreadStatic] private static float[]? s_a;
    [ThreadStatic] private static float[]? s_b;

    /// <summary>Pointer to at least <paramref name="floats"/> 64-byte-aligned floats for packed A.</summary>
    public static float* A(int floats) => Aligned(ref s_a, floats);

    /// <summary>Pointer to at least <paramref name="floats"/> 64-byte-aligned floats for packed B.</summary>
    public static float* B(int floats) => Aligned(ref s_b, floats);

    private static float* Aligned(ref float[]? buffer, int floats)
    {
        int needed = floats + Alignment / sizeof(float);
        if (buffer is null || buffer.Length < needed)
            buffer = GC.AllocateUninitializedArray<float>(needed, pinned: true);
        nint address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffer[0]);
        return (float*)((address + Alignment - 1) & ~(nint)(Alignment - 1));
    }
}
