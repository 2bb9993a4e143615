namespace Lab.Core.Cpu;

/// <summary>
/// Portable micro-kernel for machines without AVX2: the same packed-panel contract as the SIMD kernels,
/// a 4 x 4 tile of scalar accumulators. It is also the reference the SIMD kernels are tested against.
/// </summary>
internal static unsafe class GemmKernelScalar
{
    public const int MR = 4, NR = 4;

    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float* acc = stackalloc float[MR * NR];
        for (int i = 0; i < MR * NR; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r];
                for (int j = 0; j < NR; j++) acc[r * NR + j] += ar * b[j];
            }
            a += MR;
            b += NR;
        }
        for (int r = 0; r < MR; r++)
        {
            float* cr = c + r * ldc;
            for (int j = 0; j < NR; j++)
                cr[j] = beta == 0f ? alpha * acc[r * NR + j] : alpha * acc[r * NR + j] + beta * cr[j];
        }
    }
}
