namespace Lab.Core.Cpu;

/// <summary>
/// The single-threaded Goto/BLIS loop nest: NC-wide column blocks of C, KC-deep slices of K (B packed once per
/// slice and reused by every row block), MC-tall row blocks (A packed once per block and reused by every
/// micro-panel of B), and the MR x NR micro-kernel innermost.
/// </summary>
internal static unsafe class GemmDriver
{
    private const int MaxTile = 16 * 32; // the largest MR * NR of any kernel; the edge scratch tile.

    public static void Run(in GemmKernel kern, int m, int n, int k, float alpha,
        GemmMatrix a, GemmMatrix b, float beta, float* c, nint ldc)
    {
        // Equal-sized blocks: k = 300 runs as 150 + 150 rather than 256 + 44, which keeps the short block efficient.
        int kc = Balanced(k, kern.KC, 1);
        int mc = Balanced(m, kern.MC, kern.MR);
        int nc = Balanced(n, kern.NC, kern.NR);
        float* packedA = GemmBuffers.A(RoundUp(mc, kern.MR) * kc);
        float* packedB = GemmBuffers.B(RoundUp(nc, kern.NR) * kc);

        for (int jc = 0; jc < n; jc += nc)
        {
            int ncur = Math.Min(nc, n - jc);
            for (int pc = 0; pc < k; pc += kc)
            {
                int kcur = Math.Min(kc, k - pc);
                // Only the first K slice applies beta; later slices accumulate onto what the first wrote.
                float betaSlice = pc == 0 ? beta : 1f;
                GemmPacking.PackB(b.Offset(pc, jc), kcur, ncur, kern.NR, packedB);
                for (int ic = 0; ic < m; ic += mc)
                {
                    int mcur = Math.Min(mc, m - ic);
                    GemmPacking.PackA(a.Offset(ic, pc), mcur, kcur, kern.MR, packedA);
                    Macro(kern, mcur, ncur, kcur, alpha, packedA, packedB, betaSlice, c + ic * ldc + jc, ldc);
                }
            }
        }
    }

    /// <summary>One packed MC x KC block of A times one packed KC x NC block of B into C.</summary>
    private static void Macro(in GemmKernel kern, int mc, int nc, int kc, float alpha,
        float* packedA, float* packedB, float beta, float* c, nint ldc)
    {
        int mr = kern.MR, nr = kern.NR;
        float* tile = stackalloc float[MaxTile];
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* pb = packedB + jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                float* pa = packedA + ir * kc;
                float* cij = c + ir * ldc + jr;
                if (rows == mr && cols == nr)
                {
                    kern.Run(kc, pa, pb, cij, ldc, alpha, beta);
                    continue;
                }
                // Edge tile: compute the full padded tile into scratch, then merge only the valid part.
                kern.Run(kc, pa, pb, tile, nr, alpha, 0f);
                MergeEdge(tile, nr, rows, cols, beta, cij, ldc);
            }
        }
    }

    private static void MergeEdge(float* tile, int nr, int rows, int cols, float beta, float* c, nint ldc)
    {
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * ldc;
            float* tr = tile + r * nr;
            if (beta == 0f)
                for (int j = 0; j < cols; j++) cr[j] = tr[j];
            else
                for (int j = 0; j < cols; j++) cr[j] = tr[j] + beta * cr[j];
        }
    }

    /// <summary>A block size no larger than max (and a multiple of unit) that splits len into equal blocks.</summary>
    private static int Balanced(int len, int max, int unit)
    {
        int blocks = (len + max - 1) / max;
        return RoundUp((len + blocks - 1) / blocks, unit);
    }

    private static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;
}
