using System.Runtime.Intrinsics;

namespace Lab.Core.Cpu;

/// <summary>
/// Copies blocks of the operands into the layout the micro-kernel streams through: A as panels of MR rows
/// (for each k, MR consecutive values), B as panels of NR columns (for each k, NR consecutive values).
/// Panels are zero-padded to a full MR or NR so the kernel never needs an edge case in its inner loop.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs op(A)[0..mc, 0..kc] into ceil(mc/MR) panels of kc * MR floats.</summary>
    public static void PackA(GemmMatrix a, int mc, int kc, int mr, float* dst)
    {
        for (int i0 = 0; i0 < mc; i0 += mr)
        {
            int rows = Math.Min(mr, mc - i0);
            PackPanel(a.Offset(i0, 0), a.RowStride, a.ColStride, rows, mr, kc, dst);
            dst += kc * mr;
        }
    }

    /// <summary>Packs op(B)[0..kc, 0..nc] into ceil(nc/NR) panels of kc * NR floats.</summary>
    public static void PackB(GemmMatrix b, int kc, int nc, int nr, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            // A B panel is an A panel of the transpose: its "rows" are B's columns.
            PackPanel(b.Offset(0, j0), b.ColStride, b.RowStride, cols, nr, kc, dst);
            dst += kc * nr;
        }
    }

    /// <summary>
    /// dst[p * width + r] = src[r * laneStride + p * stepStride] for r below lanes, zero for the padding lanes.
    /// </summary>
    private static void PackPanel(GemmMatrix src, nint laneStride, nint stepStride, int lanes, int width, int kc, float* dst)
    {
        float* s = src.Ptr;
        if (laneStride == 1 && lanes == width)
        {
            // Lanes are contiguous in memory (A transposed, B not): one straight copy per k.
            for (int p = 0; p < kc; p++, s += stepStride, dst += width) CopyRow(s, dst, width);
            return;
        }
        if (stepStride == 1 && lanes == width)
        {
            // k is contiguous (A not transposed, B transposed): a transpose of a lanes x kc block.
            GemmTranspose.Run(s, laneStride, lanes, kc, dst, width);
            return;
        }
        for (int p = 0; p < kc; p++, s += stepStride, dst += width)
        {
            int r = 0;
            for (; r < lanes; r++) dst[r] = s[r * laneStride];
            for (; r < width; r++) dst[r] = 0f;
        }
    }

    private static void CopyRow(float* s, float* d, int width)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= width; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
        for (; j < width; j++) d[j] = s[j];
    }
}
