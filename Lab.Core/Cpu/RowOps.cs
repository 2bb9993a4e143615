using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// Copy, add and add-a-bias over a two-level block of short rows: `blocks` blocks (one per sample, blockStep apart)
/// of `rows` rows (rowStep apart) of `len` floats. These are the inner loops of im2col, col2im and the convolution's
/// gathers and scatters, where rows are 2 to 30 floats long: a call into TensorPrimitives or memmove per row costs
/// more than the work, so one call here covers a whole (c, r, s) row of the column matrix across the batch, with
/// the AVX-512 tail mask built once, and each row is one or two (masked) loads and stores.
/// </summary>
internal static unsafe class RowOps
{
    /// <summary>Source and destination strides of a block walk.</summary>
    internal readonly record struct Steps(nint SrcBlock, nint SrcRow, nint DstBlock, nint DstRow);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailMask(int len) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(len)).AsSingle();

    /// <summary>dst = src over the block walk; source elements of a row are colStride apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(float* src, float* dst, in Steps steps, int blocks, int rows, int len, int colStride = 1)
    {
        var (sb, sr, db, dr) = steps;
        if (colStride == 2 && len <= 16 && Avx512F.IsSupported)
        {
            // Stride 2: two masked loads cover the 2 len - 1 inputs, one permute picks the even ones.
            var even = Vector512<int>.Indices * 2;
            Vector512<float> mask0 = TailMask(2 * len - 1), mask1 = TailMask(2 * len - 17), outMask = TailMask(len);
            for (int b = 0; b < blocks; b++, src += sb, dst += db)
            {
                float* s = src, d = dst;
                for (int r = 0; r < rows; r++, s += sr, d += dr)
                {
                    var lo = Avx512F.MaskLoad(s, mask0, default);
                    var hi = Avx512F.MaskLoad(s + 16, mask1, default);
                    Avx512F.MaskStore(d, outMask, Avx512F.PermuteVar16x32x2(lo, even, hi));
                }
            }
            return;
        }
        if (colStride != 1)
        {
            for (int b = 0; b < blocks; b++, src += sb, dst += db)
            {
                float* s = src, d = dst;
                for (int r = 0; r < rows; r++, s += sr, d += dr)
                    for (int q = 0; q < len; q++) d[q] = s[q * colStride];
            }
            return;
        }
        if (Avx512F.IsSupported)
        {
            int full = len & ~15;
            var mask = TailMask(len - full);
            for (int b = 0; b < blocks; b++, src += sb, dst += db)
            {
                float* s = src, d = dst;
                for (int r = 0; r < rows; r++, s += sr, d += dr)
                {
                    for (int i = 0; i < full; i += 16) Vector512.Store(Vector512.Load(s + i), d + i);
                    if (full < len) Avx512F.MaskStore(d + full, mask, Avx512F.MaskLoad(s + full, mask, default));
                }
            }
            return;
        }
        for (int b = 0; b < blocks; b++, src += sb, dst += db)
        {
            float* s = src, d = dst;
            for (int r = 0; r < rows; r++, s += sr, d += dr) new Span<float>(s, len).CopyTo(new Span<float>(d, len));
        }
    }

    /// <summary>dst += src over the block walk; destination elements of a row are colStride apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* src, float* dst, in Steps steps, int blocks, int rows, int len, int colStride = 1)
    {
        var (sb, sr, db, dr) = steps;
        if (colStride != 1 || !Avx512F.IsSupported)
        {
            for (int b = 0; b < blocks; b++, src += sb, dst += db)
            {
                float* s = src, d = dst;
                for (int r = 0; r < rows; r++, s += sr, d += dr)
                    for (int q = 0; q < len; q++) d[q * colStride] += s[q];
            }
            return;
        }
        int full = len & ~15;
        var mask = TailMask(len - full);
        for (int b = 0; b < blocks; b++, src += sb, dst += db)
        {
            float* s = src, d = dst;
            for (int r = 0; r < rows; r++, s += sr, d += dr)
            {
                for (int i = 0; i < full; i += 16) Vector512.Store(Vector512.Load(d + i) + Vector512.Load(s + i), d + i);
                if (full < len)
                    Avx512F.MaskStore(d + full, mask, Avx512F.MaskLoad(d + full, mask, default) + Avx512F.MaskLoad(s + full, mask, default));
            }
        }
    }

    /// <summary>dst = src + bias[r] for row r of every block (bias null: a plain copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyAddBias(float* src, float* dst, in Steps steps, int blocks, int rows, int len, float* bias)
    {
        if (bias is null)
        {
            Copy(src, dst, steps, blocks, rows, len);
            return;
        }
        var (sb, sr, db, dr) = steps;
        if (!Avx512F.IsSupported)
        {
            for (int b = 0; b < blocks; b++, src += sb, dst += db)
            {
                float* s = src, d = dst;
                for (int r = 0; r < rows; r++, s += sr, d += dr)
                    for (int q = 0; q < len; q++) d[q] = s[q] + bias[r];
            }
            return;
        }
        int full = len & ~15;
        var mask = TailMask(len - full);
        for (int b = 0; b < blocks; b++, src += sb, dst += db)
        {
            float* s = src, d = dst;
            for (int r = 0; r < rows; r++, s += sr, d += dr)
            {
                var v = Vector512.Create(bias[r]);
                for (int i = 0; i < full; i += 16) Vector512.Store(Vector512.Load(s + i) + v, d + i);
                if (full < len) Avx512F.MaskStore(d + full, mask, Avx512F.MaskLoad(s + full, mask, default) + v);
            }
        }
    }
}
