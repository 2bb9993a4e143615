using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// The no-packing path for small products (AVX-512 only): C is walked in 32-column strips, each strip of B
/// (k x 32, row-contiguous) stays in L1 while blocks of four rows of op(A) are broadcast straight from the
/// caller's memory, so nothing is copied and edge columns are AVX-512 masked loads and stores instead of a
/// scratch tile. For tiny products the packing and edge handling of the blocked path cost more than the math.
/// A transposed B is first copied row-contiguous into a per-thread buffer (k * n floats, cheap when m is small
/// relative to the work).
/// </summary>
internal static unsafe class GemmSmall
{
    public static void Run(int m, int n, int k, float alpha, GemmMatrix a, GemmMatrix b, float beta, float* c, nint ldc)
    {
        float* rowB = b.Ptr;
        nint ldb = b.RowStride;
        if (b.ColStride != 1)
        {
            rowB = GemmBuffers.B(k * n);
            ldb = n;
            GemmTranspose.Run(b.Ptr, b.ColStride, n, k, rowB, n); // stored B is n x k; make it k x n
        }
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int j = 0; j < n; j += 32)
        {
            int cols = Math.Min(32, n - j);
            var mask0 = Vector512.LessThan(lane, Vector512.Create(cols)).AsSingle();
            var mask1 = Vector512.LessThan(lane, Vector512.Create(cols - 16)).AsSingle();
            int i = 0;
            for (; i + 4 <= m; i += 4)
                Rows4(k, alpha, a.Ptr + i * a.RowStride, a.RowStride, a.ColStride, rowB + j, ldb, beta, c + i * ldc + j, ldc, mask0, mask1);
            for (; i < m; i++)
                Row1(k, alpha, a.Ptr + i * a.RowStride, a.ColStride, rowB + j, ldb, beta, c + i * ldc + j, mask0, mask1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4(int k, float alpha, float* a, nint rs, nint cs, float* b, nint ldb, float beta,
        float* c, nint ldc, Vector512<float> mask0, Vector512<float> mask1)
    {
        Vector512<float> c0L = default, c0H = default, c1L = default, c1H = default;
        Vector512<float> c2L = default, c2H = default, c3L = default, c3H = default;
        for (int p = 0; p < k; p++)
        {
            var b0 = Avx512F.MaskLoad(b, mask0, default);
            var b1 = Avx512F.MaskLoad(b + 16, mask1, default);
            var a0 = Vector512.Create(a[0]);
            c0L = Avx512F.FusedMultiplyAdd(a0, b0, c0L); c0H = Avx512F.FusedMultiplyAdd(a0, b1, c0H);
            var a1 = Vector512.Create(a[rs]);
            c1L = Avx512F.FusedMultiplyAdd(a1, b0, c1L); c1H = Avx512F.FusedMultiplyAdd(a1, b1, c1H);
            var a2 = Vector512.Create(a[2 * rs]);
            c2L = Avx512F.FusedMultiplyAdd(a2, b0, c2L); c2H = Avx512F.FusedMultiplyAdd(a2, b1, c2H);
            var a3 = Vector512.Create(a[3 * rs]);
            c3L = Avx512F.FusedMultiplyAdd(a3, b0, c3L); c3H = Avx512F.FusedMultiplyAdd(a3, b1, c3H);
            a += cs;
            b += ldb;
        }
        Store(c, c0L, c0H, alpha, beta, mask0, mask1);
        Store(c + ldc, c1L, c1H, alpha, beta, mask0, mask1);
        Store(c + 2 * ldc, c2L, c2H, alpha, beta, mask0, mask1);
        Store(c + 3 * ldc, c3L, c3H, alpha, beta, mask0, mask1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1(int k, float alpha, float* a, nint cs, float* b, nint ldb, float beta,
        float* c, Vector512<float> mask0, Vector512<float> mask1)
    {
        Vector512<float> accL = default, accH = default;
        for (int p = 0; p < k; p++)
        {
            var ap = Vector512.Create(*a);
            accL = Avx512F.FusedMultiplyAdd(ap, Avx512F.MaskLoad(b, mask0, default), accL);
            accH = Avx512F.FusedMultiplyAdd(ap, Avx512F.MaskLoad(b + 16, mask1, default), accH);
            a += cs;
            b += ldb;
        }
        Store(c, accL, accH, alpha, beta, mask0, mask1);
    }

    /// <summary>c = alpha * acc + beta * c on the masked lanes; beta == 0 never reads c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> lo, Vector512<float> hi, float alpha, float beta,
        Vector512<float> mask0, Vector512<float> mask1)
    {
        var va = Vector512.Create(alpha);
        lo *= va;
        hi *= va;
        if (beta != 0f)
        {
            var vb = Vector512.Create(beta);
            lo = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c, mask0, default), lo);
            hi = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c + 16, mask1, default), hi);
        }
        Avx512F.MaskStore(c, mask0, lo);
        Avx512F.MaskStore(c + 16, mask1, hi);
    }
}
