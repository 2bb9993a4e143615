using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// AVX-512 micro-kernel: a 8 x 32 register tile (16 zmm accumulators, two B vectors and one broadcast
/// of the 32 registers). Each k step is two B loads, MR broadcasts and 2*MR FMAs, enough independent
/// accumulators to hide the FMA latency on both FMA pipes. Unrolled by hand because the JIT does not
/// unroll loops and must see every accumulator as its own local to keep it in a register.
/// </summary>
internal static unsafe class GemmKernelAvx512
{
    public const int MR = 8, NR = 32;

    /// <summary>c[MR x NR] = alpha * a * b + beta * c over packed panels a (kc x MR) and b (kc x NR).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0L = default, c0H = default;
        Vector512<float> c1L = default, c1H = default;
        Vector512<float> c2L = default, c2H = default;
        Vector512<float> c3L = default, c3H = default;
        Vector512<float> c4L = default, c4H = default;
        Vector512<float> c5L = default, c5H = default;
        Vector512<float> c6L = default, c6H = default;
        Vector512<float> c7L = default, c7H = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c0L = Avx512F.FusedMultiplyAdd(a0, b0, c0L); c0H = Avx512F.FusedMultiplyAdd(a0, b1, c0H);
            var a1 = Vector512.Create(a[1]);
            c1L = Avx512F.FusedMultiplyAdd(a1, b0, c1L); c1H = Avx512F.FusedMultiplyAdd(a1, b1, c1H);
            var a2 = Vector512.Create(a[2]);
            c2L = Avx512F.FusedMultiplyAdd(a2, b0, c2L); c2H = Avx512F.FusedMultiplyAdd(a2, b1, c2H);
            var a3 = Vector512.Create(a[3]);
            c3L = Avx512F.FusedMultiplyAdd(a3, b0, c3L); c3H = Avx512F.FusedMultiplyAdd(a3, b1, c3H);
            var a4 = Vector512.Create(a[4]);
            c4L = Avx512F.FusedMultiplyAdd(a4, b0, c4L); c4H = Avx512F.FusedMultiplyAdd(a4, b1, c4H);
            var a5 = Vector512.Create(a[5]);
            c5L = Avx512F.FusedMultiplyAdd(a5, b0, c5L); c5H = Avx512F.FusedMultiplyAdd(a5, b1, c5H);
            var a6 = Vector512.Create(a[6]);
            c6L = Avx512F.FusedMultiplyAdd(a6, b0, c6L); c6H = Avx512F.FusedMultiplyAdd(a6, b1, c6H);
            var a7 = Vector512.Create(a[7]);
            c7L = Avx512F.FusedMultiplyAdd(a7, b0, c7L); c7H = Avx512F.FusedMultiplyAdd(a7, b1, c7H);
            a += MR;
            b += NR;
        }

        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            // beta == 0 overwrites c without reading it, so NaN or garbage in c never leaks through.
            Vector512.Store(va * c0L, c + 0 * ldc); Vector512.Store(va * c0H, c + 0 * ldc + 16);
            Vector512.Store(va * c1L, c + 1 * ldc); Vector512.Store(va * c1H, c + 1 * ldc + 16);
            Vector512.Store(va * c2L, c + 2 * ldc); Vector512.Store(va * c2H, c + 2 * ldc + 16);
            Vector512.Store(va * c3L, c + 3 * ldc); Vector512.Store(va * c3H, c + 3 * ldc + 16);
            Vector512.Store(va * c4L, c + 4 * ldc); Vector512.Store(va * c4H, c + 4 * ldc + 16);
            Vector512.Store(va * c5L, c + 5 * ldc); Vector512.Store(va * c5H, c + 5 * ldc + 16);
            Vector512.Store(va * c6L, c + 6 * ldc); Vector512.Store(va * c6H, c + 6 * ldc + 16);
            Vector512.Store(va * c7L, c + 7 * ldc); Vector512.Store(va * c7H, c + 7 * ldc + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Update(c + 0 * ldc, c0L, c0H, va, vb);
            Update(c + 1 * ldc, c1L, c1H, va, vb);
            Update(c + 2 * ldc, c2L, c2H, va, vb);
            Update(c + 3 * ldc, c3L, c3H, va, vb);
            Update(c + 4 * ldc, c4L, c4H, va, vb);
            Update(c + 5 * ldc, c5L, c5H, va, vb);
            Update(c + 6 * ldc, c6L, c6H, va, vb);
            Update(c + 7 * ldc, c7L, c7H, va, vb);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha, Vector512<float> beta)
    {
        Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, acc0, beta * Vector512.Load(c)), c);
        Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, acc1, beta * Vector512.Load(c + 16)), c + 16);
    }
}
