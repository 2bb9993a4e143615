using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// softplus(x) = max(x, 0) + log1p(exp(-|x|)), eight lanes at a time in double precision: the same formula and the
/// same double intermediate as the scalar loop (Goldberg's log1p correction below u = 1e-6 included), so each float
/// result is the scalar one (the vector exp and log are within an ulp of double, far below float's rounding). The
/// scalar loop called Math.Exp and Math.Log per element: 7 µs of a 9 µs Linear(32 -> 32, softplus) at batch 16.
/// </summary>
internal static class SoftplusKernel
{
    public static void Forward(ReadOnlySpan<float> s, Span<float> d)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            ref float src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(s);
            ref float dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(d);
            for (; i + 8 <= d.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var log1p = Log1p(Vector512.Exp(-Vector512.Abs(Avx512F.ConvertToVector512Double(v))));
                var y = Vector256.Max(v, Vector256<float>.Zero) + Avx512F.ConvertToVector256Single(log1p);
                y.StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < d.Length; i++) d[i] = Scalar(s[i]);
    }

    public static float Scalar(float v) => MathF.Max(v, 0) + (float)Log1p(Math.Exp(-Math.Abs(v)));

    /// <summary>
    /// log(1 + u) for u in [0, 1], accurate for tiny u: below 1e-6 (softplus at x below about -13.8), where rounding
    /// 1 + u costs more than 1e-10 relative, Goldberg's correction cancels that rounding out. Above, the plain form
    /// is already exact to float and is kept, so that softplus results (and the seeds' runs) are bit for bit as before.
    /// </summary>
    private static double Log1p(double u)
    {
        if (u >= 1e-6) return Math.Log(1 + u);
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * (u / (w - 1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Log1p(Vector512<double> u)
    {
        var w = Vector512<double>.One + u;
        var log = Vector512.Log(w);
        // Lanes where the correction divides 0 by 0 are not selected.
        var corrected = Vector512.ConditionalSelect(Vector512.Equals(w, Vector512<double>.One), u, log * (u / (w - Vector512<double>.One)));
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(u, Vector512.Create(1e-6)), log, corrected);
    }
}
