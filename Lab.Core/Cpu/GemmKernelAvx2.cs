using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// AVX2/FMA micro-kernel: a 6 x 16 register tile (12 ymm accumulators, two B vectors and one broadcast
/// fill the 16 registers of an AVX2-only machine). Unrolled by hand so every accumulator stays a register.
/// </summary>
internal static unsafe class GemmKernelAvx2
{
    public const int MR = 6, NR = 16;

    /// <summary>c[MR x NR] = alpha * a * b + beta * c over packed panels a (kc x MR) and b (kc x NR).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c0L = default, c0H = default;
        Vector256<float> c1L = default, c1H = default;
        Vector256<float> c2L = default, c2H = default;
        Vector256<float> c3L = default, c3H = default;
        Vector256<float> c4L = default, c4H = default;
        Vector256<float> c5L = default, c5H = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c0L = Fma.MultiplyAdd(a0, b0, c0L); c0H = Fma.MultiplyAdd(a0, b1, c0H);
            var a1 = Vector256.Create(a[1]);
            c1L = Fma.MultiplyAdd(a1, b0, c1L); c1H = Fma.MultiplyAdd(a1, b1, c1H);
            var a2 = Vector256.Create(a[2]);
            c2L = Fma.MultiplyAdd(a2, b0, c2L); c2H = Fma.MultiplyAdd(a2, b1, c2H);
            var a3 = Vector256.Create(a[3]);
            c3L = Fma.MultiplyAdd(a3, b0, c3L); c3H = Fma.MultiplyAdd(a3, b1, c3H);
            var a4 = Vector256.Create(a[4]);
            c4L = Fma.MultiplyAdd(a4, b0, c4L); c4H = Fma.MultiplyAdd(a4, b1, c4H);
            var a5 = Vector256.Create(a[5]);
            c5L = Fma.MultiplyAdd(a5, b0, c5L); c5H = Fma.MultiplyAdd(a5, b1, c5H);
            a += MR;
            b += NR;
        }

        var va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            // beta == 0 overwrites c without reading it, so NaN or garbage in c never leaks through.
            Vector256.Store(va * c0L, c + 0 * ldc); Vector256.Store(va * c0H, c + 0 * ldc + 8);
            Vector256.Store(va * c1L, c + 1 * ldc); Vector256.Store(va * c1H, c + 1 * ldc + 8);
            Vector256.Store(va * c2L, c + 2 * ldc); Vector256.Store(va * c2H, c + 2 * ldc + 8);
            Vector256.Store(va * c3L, c + 3 * ldc); Vector256.Store(va * c3H, c + 3 * ldc + 8);
            Vector256.Store(va * c4L, c + 4 * ldc); Vector256.Store(va * c4H, c + 4 * ldc + 8);
            Vector256.Store(va * c5L, c + 5 * ldc); Vector256.Store(va * c5H, c + 5 * ldc + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Update(c + 0 * ldc, c0L, c0H, va, vb);
            Update(c + 1 * ldc, c1L, c1H, va, vb);
            Update(c + 2 * ldc, c2L, c2H, va, vb);
            Update(c + 3 * ldc, c3L, c3H, va, vb);
            Update(c + 4 * ldc, c4L, c4H, va, vb);
            Update(c + 5 * ldc, c5L, c5H, va, vb);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> alpha, Vector256<float> beta)
    {
        Vector256.Store(Fma.MultiplyAdd(alpha, acc0, beta * Vector256.Load(c)), c);
        Vector256.Store(Fma.MultiplyAdd(alpha, acc1, beta * Vector256.Load(c + 8)), c + 8);
    }
}
