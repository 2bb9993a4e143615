using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// Batch normalisation of an N x C x S tensor (S the flattened spatial size), one channel at a time on one thread:
/// two passes for the statistics (the mean, then the squared deviations from it: no E[x²] - E[x]² cancellation) and
/// one for the output, every pass N runs of S floats in 16-lane chunks with masked tails. The composed form (mean,
/// subtract, square, mean, add, sqrt, divide, multiply, add, each a broadcast op of N C runs) cost 17 µs forward for
/// the GAN's 16 x 16 x 4 x 4 tensor; these loops touch each element three times.
/// </summary>
internal static unsafe class BatchNormKernels
{
    /// <summary>
    /// Training: mean[c] and invStd[c] = 1 / sqrt(var + eps) (biased variance) of each channel, y = (x - mean) invStd
    /// weight + bias, and the running statistics (when given) moved toward the mean and the unbiased variance.
    /// </summary>
    public static void Train(float* x, float* weight, float* bias, float* y, float* mean, float* invStd,
        float* runningMean, float* runningVar, int n, int channels, int spatial, float momentum, float eps)
    {
        long count = (long)n * spatial;
        float inv = 1f / count;
        for (int c = 0; c < channels; c++)
        {
            float m = Sum(x, c, n, channels, spatial) * inv;
            float variance = SquaredDeviations(x, c, n, channels, spatial, m) * inv;
            float r = 1f / MathF.Sqrt(variance + eps);
            mean[c] = m;
            invStd[c] = r;
            Normalize(x, y, c, n, channels, spatial, m, r * (weight is null ? 1f : weight[c]), bias is null ? 0f : bias[c]);
            if (runningMean is not null)
            {
                runningMean[c] = runningMean[c] * (1 - momentum) + m * momentum;
                runningVar[c] = runningVar[c] * (1 - momentum) + variance * (momentum * count / (count - 1f));
            }
        }
    }

    /// <summary>Evaluation: y = (x - runningMean) / sqrt(runningVar + eps) weight + bias.</summary>
    public static void Eval(float* x, float* runningMean, float* runningVar, float* weight, float* bias, float* y,
        int n, int channels, int spatial, float eps)
    {
        for (int c = 0; c < channels; c++)
        {
            float r = 1f / MathF.Sqrt(runningVar[c] + eps);
            Normalize(x, y, c, n, channels, spatial, runningMean[c], r * (weight is null ? 1f : weight[c]), bias is null ? 0f : bias[c]);
        }
    }

    /// <summary>
    /// The training-mode gradient, with x̂ = (x - mean) invStd: dBias = Σ dy, dWeight = Σ dy x̂, and
    /// dx = weight invStd (dy - Σ dy / count - x̂ Σ dy x̂ / count). Any of dx, dWeight, dBias may be null (not needed).
    /// </summary>
    public static void Grad(float* x, float* dy, float* mean, float* invStd, float* weight, float* dx, float* dWeight, float* dBias,
        int n, int channels, int spatial)
    {
        float inv = 1f / ((long)n * spatial);
        for (int c = 0; c < channels; c++)
        {
            float m = mean[c], r = invStd[c];
            var (sumDy, sumDyCentered) = GradSums(x, dy, c, n, channels, spatial, m);
            float sumDyXhat = sumDyCentered * r;
            if (dBias is not null) dBias[c] = sumDy;
            if (dWeight is not null) dWeight[c] = sumDyXhat;
            if (dx is null) continue;
            // dx = a dy + b (x - mean) + d, in one pass.
            float a = r * (weight is null ? 1f : weight[c]);
            float b = -a * r * sumDyXhat * inv, d = -a * sumDy * inv;
            GradInput(x, dy, dx, c, n, channels, spatial, m, a, b, d);
        }
    }

    private static Vector512<float> Mask(int left) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(left)).AsSingle();

    private static float* Run(float* x, int i, int c, int channels, int spatial) => x + ((long)i * channels + c) * spatial;

    /// <summary>Σ x over channel c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float* x, int c, int n, int channels, int spatial)
    {
        if (!Avx512F.IsSupported)
        {
            float sum = 0;
            for (int i = 0; i < n; i++) { float* p = Run(x, i, c, channels, spatial); for (int j = 0; j < spatial; j++) sum += p[j]; }
            return sum;
        }
        var acc = Vector512<float>.Zero;
        for (int i = 0; i < n; i++)
        {
            float* p = Run(x, i, c, channels, spatial);
            for (int j = 0; j < spatial; j += 16) acc += Avx512F.MaskLoad(p + j, Mask(spatial - j), default);
        }
        return Vector512.Sum(acc);
    }

    /// <summary>Σ (x - mean)² over channel c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SquaredDeviations(float* x, int c, int n, int channels, int spatial, float mean)
    {
        if (!Avx512F.IsSupported)
        {
            float sum = 0;
            for (int i = 0; i < n; i++) { float* p = Run(x, i, c, channels, spatial); for (int j = 0; j < spatial; j++) { float d = p[j] - mean; sum += d * d; } }
            return sum;
        }
        var acc = Vector512<float>.Zero;
        var m = Vector512.Create(mean);
        for (int i = 0; i < n; i++)
        {
            float* p = Run(x, i, c, channels, spatial);
            for (int j = 0; j < spatial; j += 16)
            {
                var mask = Mask(spatial - j);
                var d = (Avx512F.MaskLoad(p + j, mask, default) - m) & mask;   // masked-off lanes would add mean²
                acc = Avx512F.FusedMultiplyAdd(d, d, acc);
            }
        }
        return Vector512.Sum(acc);
    }

    /// <summary>y = (x - mean) scale + shift over channel c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize(float* x, float* y, int c, int n, int channels, int spatial, float mean, float scale, float shift)
    {
        for (int i = 0; i < n; i++)
        {
            float* p = Run(x, i, c, channels, spatial), q = Run(y, i, c, channels, spatial);
            int j = 0;
            if (Avx512F.IsSupported)
            {
                var (m, a, b) = (Vector512.Create(mean), Vector512.Create(scale), Vector512.Create(shift));
                for (; j < spatial; j += 16)
                {
                    var mask = Mask(spatial - j);
                    Avx512F.MaskStore(q + j, mask, Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(p + j, mask, default) - m, a, b));
                }
            }
            for (; j < spatial; j++) q[j] = (p[j] - mean) * scale + shift;
        }
    }

    /// <summary>(Σ dy, Σ dy (x - mean)) over channel c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float SumDy, float SumDyCentered) GradSums(float* x, float* dy, int c, int n, int channels, int spatial, float mean)
    {
        if (!Avx512F.IsSupported)
        {
            float sg = 0, sgx = 0;
            for (int i = 0; i < n; i++)
            {
                float* p = Run(x, i, c, channels, spatial), g = Run(dy, i, c, channels, spatial);
                for (int j = 0; j < spatial; j++) { sg += g[j]; sgx += g[j] * (p[j] - mean); }
            }
            return (sg, sgx);
        }
        Vector512<float> accG = default, accGx = default;
        var m = Vector512.Create(mean);
        for (int i = 0; i < n; i++)
        {
            float* p = Run(x, i, c, channels, spatial), g = Run(dy, i, c, channels, spatial);
            for (int j = 0; j < spatial; j += 16)
            {
                var mask = Mask(spatial - j);
                var gv = Avx512F.MaskLoad(g + j, mask, default);   // zero in masked-off lanes, so their products are zero
                accG += gv;
                accGx = Avx512F.FusedMultiplyAdd(gv, Avx512F.MaskLoad(p + j, mask, default) - m, accGx);
            }
        }
        return (Vector512.Sum(accG), Vector512.Sum(accGx));
    }

    /// <summary>dx = a dy + b (x - mean) + d over channel c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradInput(float* x, float* dy, float* dx, int c, int n, int channels, int spatial, float mean, float a, float b, float d)
    {
        for (int i = 0; i < n; i++)
        {
            float* p = Run(x, i, c, channels, spatial), g = Run(dy, i, c, channels, spatial), q = Run(dx, i, c, channels, spatial);
            int j = 0;
            if (Avx512F.IsSupported)
            {
                var (m, va, vb, vd) = (Vector512.Create(mean), Vector512.Create(a), Vector512.Create(b), Vector512.Create(d));
                for (; j < spatial; j += 16)
                {
                    var mask = Mask(spatial - j);
                    var centered = Avx512F.MaskLoad(p + j, mask, default) - m;
                    var v = Avx512F.FusedMultiplyAdd(va, Avx512F.MaskLoad(g + j, mask, default), Avx512F.FusedMultiplyAdd(vb, centered, vd));
                    Avx512F.MaskStore(q + j, mask, v);
                }
            }
            for (; j < spatial; j++) q[j] = a * g[j] + (b * (p[j] - mean) + d);
        }
    }
}
