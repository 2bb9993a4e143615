using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// The forward convolution of a single-channel input (the first layer of every seed CNN), stride 1, no padding or dilation, as
/// direct AVX-512 loops: 16 output columns at a time, the R S input vectors of a row loaded once and reused by all K
/// filters. Its im2col product has only R S (9) rows of depth, too shallow for the GEMM's packing to pay. Taps are
/// summed in the order the GEMM sums them, from zero, and the bias added last, so results match it bit for bit.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Kernels up to 5 x 5.</summary>
    public const int MaxTaps = 25;

    public static bool Applies(in ConvGeometry g) =>
        Avx512F.IsSupported && g.C == 1 && g.Groups == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0
        && g.ExtraPadH == 0 && g.ExtraPadW == 0 && g.DilationH == 1 && g.DilationW == 1
        && g.R * g.S <= MaxTaps && g.OutH > 0 && g.OutW > 0;

    private struct Job
    {
        public ConvGeometry G;
        public float* X, W, Bias, Y;
    }

    public static void Forward(float* x, float* w, float* bias, float* y, in ConvGeometry g)
    {
        var job = new Job { G = g, X = x, W = w, Bias = bias, Y = y };
        int rows = g.N * g.OutH;
        long macs = (long)g.N * g.K * g.R * g.S * g.OutH * g.OutW;
        int threads = macs >= ConvGemm.MinMacsForThreads && rows >= 2 ? Math.Min(Gemm.MaxThreads, rows) : 1;
        int parts = threads == 1 ? 1 : Math.Min(rows, 4 * threads);
        WorkerPool.Run(parts, threads, &Rows, &job);
    }

    /// <summary>The bias is added after the taps, as the GEMM path adds it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector512<float> mask, Vector512<float> acc, float* bias, int k)
    {
        if (bias is not null) acc += Vector512.Create(bias[k]);
        Avx512F.MaskStore(y, mask, acc);
    }

    /// <summary>Output rows [first, end) of the N x OutH rows, every filter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.G;
        var (first, end) = WorkerPool.Slice(g.N * g.OutH, 1, parts, part);
        int taps = g.R * g.S, ohw = g.OutH * g.OutW;
        var inputs = stackalloc Vector512<float>[MaxTaps];
        for (int row = first; row < end; row++)
        {
            int n = row / g.OutH, i = row - n * g.OutH;
            float* xs = job.X + (long)n * g.H * g.W + i * g.W;
            float* ys = job.Y + (long)n * g.K * ohw + i * g.OutW;
            for (int j = 0; j < g.OutW; j += 16)
            {
                // Lane l computes output column j + l; tap (r, s) reads input column j + l + s of row i + r.
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(Math.Min(16, g.OutW - j))).AsSingle();
                for (int r = 0, t = 0; r < g.R; r++)
                    for (int s = 0; s < g.S; s++, t++)
                        inputs[t] = Avx512F.MaskLoad(xs + r * g.W + j + s, mask, default);
                int k = 0;
                // Eight filters at a time: eight independent accumulation chains hide the FMA latency.
                for (; k + 8 <= g.K; k += 8)
                {
                    float* w0 = job.W + k * taps;
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        var v = inputs[t];
                        float* wt = w0 + t;
                        a0 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[0]), v, a0);
                        a1 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[taps]), v, a1);
                        a2 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[2 * taps]), v, a2);
                        a3 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[3 * taps]), v, a3);
                        a4 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[4 * taps]), v, a4);
                        a5 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[5 * taps]), v, a5);
                        a6 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[6 * taps]), v, a6);
                        a7 = Avx512F.FusedMultiplyAdd(Vector512.Create(wt[7 * taps]), v, a7);
                    }
                    float* yk = ys + (long)k * ohw + j;
                    Store(yk, mask, a0, job.Bias, k);
                    Store(yk + ohw, mask, a1, job.Bias, k + 1);
                    Store(yk + 2 * ohw, mask, a2, job.Bias, k + 2);
                    Store(yk + 3 * ohw, mask, a3, job.Bias, k + 3);
                    Store(yk + 4 * ohw, mask, a4, job.Bias, k + 4);
                    Store(yk + 5 * ohw, mask, a5, job.Bias, k + 5);
                    Store(yk + 6 * ohw, mask, a6, job.Bias, k + 6);
                    Store(yk + 7 * ohw, mask, a7, job.Bias, k + 7);
                }
                for (; k < g.K; k++)
                {
                    float* wk = job.W + k * taps;
                    var acc = Vector512<float>.Zero;
                    for (int t = 0; t < taps; t++) acc = Avx512F.FusedMultiplyAdd(Vector512.Create(wk[t]), inputs[t], acc);
                    Store(ys + (long)k * ohw + j, mask, acc, job.Bias, k);
                }
            }
        }
    }
}
