using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// Out-of-place float transposes for packing. Row-major A (and a transposed B) must be turned k-major before
/// the kernel can stream it; element by element that costs about as much as the multiply itself for mid-sized
/// products, while 8 x 8 register transposes (24 shuffles per 64 floats) make it cheap.
/// </summary>
internal static unsafe class GemmTranspose
{
    /// <summary>dst[j * ldd + i] = src[i * lds + j] for i below rows, j below cols.</summary>
    public static void Run(float* src, nint lds, int rows, int cols, float* dst, nint ldd)
    {
        int i = 0;
        if (Avx.IsSupported)
            for (; i + 8 <= rows; i += 8)
            {
                int j = 0;
                for (; j + 8 <= cols; j += 8) Block8x8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
                Scalar(src + i * lds + j, lds, 8, cols - j, dst + j * ldd + i, ldd);
            }
        Scalar(src + i * lds, lds, rows - i, cols, dst + i, ldd);
    }

    private static void Scalar(float* src, nint lds, int rows, int cols, float* dst, nint ldd)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(float* src, nint lds, float* dst, nint ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds);
        var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds);
        var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds);
        var r7 = Avx.LoadVector256(src + 7 * lds);
        // Interleave pairs of rows, then pairs of pairs: u_q holds columns q and q + 4 of four rows.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Join the 128-bit halves of rows 0-3 and 4-7: low halves give columns 0-3, high halves 4-7.
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }
}
