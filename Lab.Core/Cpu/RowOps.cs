using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// Copy, add and add-a-constant over one short row: the inner loops of im2col, col2im and the convolution's
/// gathers and scatters, where rows are 2 to 30 floats long. A call into TensorPrimitives or memmove costs more
/// than the work at these lengths; here one AVX-512 masked load and store covers a row of up to 16 floats.
/// </summary>
internal static unsafe class RowOps
{
    private static readonly Vector512<int> Lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailMask(int len) => Vector512.LessThan(Lanes, Vector512.Create(len)).AsSingle();

    /// <summary>dst[0..len) = src[0..len).</summary>
    public static void Copy(float* src, float* dst, int len)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            for (; i + 16 <= len; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
            if (i < len)
            {
                var mask = TailMask(len - i);
                Avx512F.MaskStore(dst + i, mask, Avx512F.MaskLoad(src + i, mask, default));
            }
            return;
        }
        for (; i + 8 <= len; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < len; i++) dst[i] = src[i];
    }

    /// <summary>dst[0..len) += src[0..len).</summary>
    public static void Add(float* src, float* dst, int len)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            for (; i + 16 <= len; i += 16) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
            if (i < len)
            {
                var mask = TailMask(len - i);
                var sum = Avx512F.MaskLoad(dst + i, mask, default) + Avx512F.MaskLoad(src + i, mask, default);
                Avx512F.MaskStore(dst + i, mask, sum);
            }
            return;
        }
        for (; i + 8 <= len; i += 8) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        for (; i < len; i++) dst[i] += src[i];
    }

    /// <summary>dst[0..len) = src[0..len) + value (src and dst may be the same row).</summary>
    public static void AddConstant(float* src, float value, float* dst, int len)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var v = Vector512.Create(value);
            for (; i + 16 <= len; i += 16) Vector512.Store(Vector512.Load(src + i) + v, dst + i);
            if (i < len)
            {
                var mask = TailMask(len - i);
                Avx512F.MaskStore(dst + i, mask, Avx512F.MaskLoad(src + i, mask, default) + v);
            }
            return;
        }
        var v8 = Vector256.Create(value);
        for (; i + 8 <= len; i += 8) Vector256.Store(Vector256.Load(src + i) + v8, dst + i);
        for (; i < len; i++) dst[i] = src[i] + value;
    }

    /// <summary>dst[0..len) = 0.</summary>
    public static void Zero(float* dst, int len)
    {
        if (!Avx512F.IsSupported || len > 64)
        {
            new Span<float>(dst, len).Clear();
            return;
        }
        int i = 0;
        for (; i + 16 <= len; i += 16) Vector512.Store(Vector512<float>.Zero, dst + i);
        if (i < len) Avx512F.MaskStore(dst + i, TailMask(len - i), Vector512<float>.Zero);
    }
}
