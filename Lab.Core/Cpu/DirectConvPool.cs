using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// A single-channel convolution (stride 1, no padding or dilation), its bias, ReLU and a 2x2 stride-2 max pool in one
/// pass (MnistCnn's first block), AVX-512: each step computes two convolution rows of 32 columns for four filters in
/// sixteen registers, then pools them in registers and writes only the pooled outputs and their argmax, so the
/// convolution's output (four times the pooled size) never reaches memory. Computing two rows per step also shares
/// each weight broadcast between them. Taps are summed from zero in <see cref="DirectConv"/>'s order and the bias
/// added last, the pool takes the first maximum (or last NaN) in row-major order as <see cref="Pooling"/> does, and
/// ReLU comes after the max, so values and indices equal DirectConv, then ReLU and max pooling, bit for bit.
/// Its backward (<see cref="GradWeight"/>) likewise goes from the pooled gradient to the weights without the
/// convolution-sized gradient.
/// </summary>
internal static unsafe class DirectConvPool
{
    public static bool Applies(in ConvGeometry c, in PoolGeometry p) =>
        DirectConv.Applies(c) && p.KernelH == 2 && p.KernelW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0
        && p.DilationH == 1 && p.DilationW == 1 && p.OutH == c.OutH / 2 && p.OutW == c.OutW / 2 && p.OutH > 0 && p.OutW > 0;

    /// <summary>(R + 1) S shifted rows of two vectors, at most 2 (R S + S) &lt;= 4 MaxTaps.</summary>
    private const int MaxInputs = 4 * DirectConv.MaxTaps;

    private struct Job
    {
        public ConvGeometry G;
        public int PoolH, PoolW;
        public float* X, W, Bias, Y, Indices;
    }

    public static void Forward(float* x, float* w, float* bias, float* y, float* indices, in ConvGeometry g, in PoolGeometry p)
    {
        var job = new Job { G = g, PoolH = p.OutH, PoolW = p.OutW, X = x, W = w, Bias = bias, Y = y, Indices = indices };
        int rows = g.N * p.OutH;
        long macs = (long)g.N * g.K * g.R * g.S * g.OutH * g.OutW;
        int threads = macs >= ConvGemm.MinMacsForThreads && rows >= 2 ? Math.Min(Gemm.MaxThreads, rows) : 1;
        int parts = threads == 1 ? 1 : Math.Min(rows, 4 * threads);
        WorkerPool.Run(parts, threads, &PooledRows, &job);
    }

    /// <summary>Pooled rows [first, end) of the N x PoolH rows, every filter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PooledRows(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.G;
        int ph = job.PoolH, pw = job.PoolW, taps = g.R * g.S, pooled = ph * pw;
        var (first, end) = WorkerPool.Slice(g.N * ph, 1, parts, part);
        // inputs[(rr * S + s) * 2 + v]: input row 2 i + rr, shifted by s, columns j + 16 v.
        var inputs = stackalloc Vector512<float>[MaxInputs];
        var lanes = Vector512<int>.Indices;
        for (int row = first; row < end; row++)
        {
            int n = row / ph, i = row - n * ph;
            float* xs = job.X + (long)n * g.H * g.W + 2 * i * g.W;
            float* ys = job.Y + (long)n * g.K * pooled + i * pw, idx = job.Indices + (long)n * g.K * pooled + i * pw;
            for (int j = 0; j < 2 * pw; j += 32)
            {
                // Only the 2 pw columns that windows cover are computed (an odd last column is in none).
                int width = 2 * pw - j;
                var mask0 = Vector512.LessThan(lanes, Vector512.Create(width)).AsSingle();
                var mask1 = Vector512.LessThan(lanes, Vector512.Create(width - 16)).AsSingle();
                for (int rr = 0; rr < g.R + 1; rr++)
                    for (int s = 0; s < g.S; s++)
                    {
                        float* src = xs + rr * g.W + j + s;
                        inputs[(rr * g.S + s) * 2] = Avx512F.MaskLoad(src, mask0, default);
                        inputs[(rr * g.S + s) * 2 + 1] = Avx512F.MaskLoad(src + 16, mask1, default);
                    }
                int outputs = Math.Min(16, pw - j / 2);
                var outMask = Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle();
                // The window's top-left pixel, as Pooling records it: an index into the convolution's output plane.
                var topLeft = Vector512.ConvertToSingle(lanes * 2 + Vector512.Create(2 * i * g.OutW + j));
                int k = 0;
                for (; k + 4 <= g.K; k += 4)
                {
                    Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
                    Vector512<float> b00 = default, b01 = default, b10 = default, b11 = default;
                    Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
                    Vector512<float> d00 = default, d01 = default, d10 = default, d11 = default;
                    float* w0 = job.W + k * taps;
                    for (int r = 0, t = 0; r < g.R; r++)
                        for (int s = 0; s < g.S; s++, t++)
                        {
                            // Output row 0 reads input row r, output row 1 input row r + 1.
                            var top = inputs + (r * g.S + s) * 2;
                            var bottom = inputs + ((r + 1) * g.S + s) * 2;
                            var (t0, t1, u0, u1) = (top[0], top[1], bottom[0], bottom[1]);
                            var wa = Vector512.Create(w0[t]);
                            a00 = Avx512F.FusedMultiplyAdd(wa, t0, a00); a01 = Avx512F.FusedMultiplyAdd(wa, t1, a01);
                            a10 = Avx512F.FusedMultiplyAdd(wa, u0, a10); a11 = Avx512F.FusedMultiplyAdd(wa, u1, a11);
                            var wb = Vector512.Create(w0[taps + t]);
                            b00 = Avx512F.FusedMultiplyAdd(wb, t0, b00); b01 = Avx512F.FusedMultiplyAdd(wb, t1, b01);
                            b10 = Avx512F.FusedMultiplyAdd(wb, u0, b10); b11 = Avx512F.FusedMultiplyAdd(wb, u1, b11);
                            var wc = Vector512.Create(w0[2 * taps + t]);
                            c00 = Avx512F.FusedMultiplyAdd(wc, t0, c00); c01 = Avx512F.FusedMultiplyAdd(wc, t1, c01);
                            c10 = Avx512F.FusedMultiplyAdd(wc, u0, c10); c11 = Avx512F.FusedMultiplyAdd(wc, u1, c11);
                            var wd = Vector512.Create(w0[3 * taps + t]);
                            d00 = Avx512F.FusedMultiplyAdd(wd, t0, d00); d01 = Avx512F.FusedMultiplyAdd(wd, t1, d01);
                            d10 = Avx512F.FusedMultiplyAdd(wd, u0, d10); d11 = Avx512F.FusedMultiplyAdd(wd, u1, d11);
                        }
                    long at = (long)k * pooled + j / 2;
                    Pool(a00, a01, a10, a11, job.Bias, k, g.OutW, topLeft, outMask, ys + at, idx + at);
                    Pool(b00, b01, b10, b11, job.Bias, k + 1, g.OutW, topLeft, outMask, ys + at + pooled, idx + at + pooled);
                    Pool(c00, c01, c10, c11, job.Bias, k + 2, g.OutW, topLeft, outMask, ys + at + 2 * pooled, idx + at + 2 * pooled);
                    Pool(d00, d01, d10, d11, job.Bias, k + 3, g.OutW, topLeft, outMask, ys + at + 3 * pooled, idx + at + 3 * pooled);
                }
                for (; k < g.K; k++)
                {
                    Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
                    float* wk = job.W + k * taps;
                    for (int r = 0, t = 0; r < g.R; r++)
                        for (int s = 0; s < g.S; s++, t++)
                        {
                            var top = inputs + (r * g.S + s) * 2;
                            var bottom = inputs + ((r + 1) * g.S + s) * 2;
                            var wa = Vector512.Create(wk[t]);
                            a00 = Avx512F.FusedMultiplyAdd(wa, top[0], a00); a01 = Avx512F.FusedMultiplyAdd(wa, top[1], a01);
                            a10 = Avx512F.FusedMultiplyAdd(wa, bottom[0], a10); a11 = Avx512F.FusedMultiplyAdd(wa, bottom[1], a11);
                        }
                    long at = (long)k * pooled + j / 2;
                    Pool(a00, a01, a10, a11, job.Bias, k, g.OutW, topLeft, outMask, ys + at, idx + at);
                }
            }
        }
    }

    /// <summary>
    /// Adds filter k's bias to two rows of 32 convolution outputs (top: z00 z01, bottom: z10 z11), pools each 2x2 window
    /// (taps in row-major order, as <see cref="Pooling"/>), applies ReLU to the maximum and stores 16 outputs and indices.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pool(Vector512<float> z00, Vector512<float> z01, Vector512<float> z10, Vector512<float> z11, float* bias, int k,
        int outW, Vector512<float> topLeft, Vector512<float> outMask, float* y, float* idx)
    {
        if (bias is not null)
        {
            var b = Vector512.Create(bias[k]);
            (z00, z01, z10, z11) = (z00 + b, z01 + b, z10 + b, z11 + b);
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var best = Avx512F.PermuteVar16x32x2(z00, even, z01);
        var arg = topLeft;
        Take(Avx512F.PermuteVar16x32x2(z00, odd, z01), topLeft + Vector512<float>.One, ref best, ref arg);
        Take(Avx512F.PermuteVar16x32x2(z10, even, z11), topLeft + Vector512.Create((float)outW), ref best, ref arg);
        Take(Avx512F.PermuteVar16x32x2(z10, odd, z11), topLeft + Vector512.Create(outW + 1f), ref best, ref arg);
        best = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(best, default), default, best); // ReLU, NaN kept
        Avx512F.MaskStore(y, outMask, best);
        Avx512F.MaskStore(idx, outMask, arg);
    }

    /// <summary>Where tap v is larger than the best so far, or NaN, it becomes the best and its index the argument.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> v, Vector512<float> at, ref Vector512<float> best, ref Vector512<float> arg)
    {
        var take = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
        best = Vector512.ConditionalSelect(take, v, best);
        arg = Vector512.ConditionalSelect(take, at, arg);
    }
    /// <summary>The backward's parts: a fixed count for the shape, so the weight gradient's sums do not depend on the threads.</summary>
    private const int GradParts = 8;

    private struct GradJob
    {
        public ConvGeometry G;
        public int PoolH, PoolW, Parts;
        public float* X, Dy, Y, Indices, Partials;
    }

    /// <summary>
    /// The weight and bias gradients of the fused block for pooled gradient dy, straight from the pooled gradient: each
    /// window passes its gradient (where its output y is positive) to the one convolution output at its argmax, so
    /// dw[k, r, s] = sum over windows of gy at that window times x at its argmax shifted by (r, s), and db[k] = the sum
    /// of the passed gradients. Sixteen windows at a time: the argmax splits gy into four vectors, one per window
    /// position, each multiplying a stride-2 view of x, so the convolution-sized gradient is never written nor read
    /// back by a GEMM. db may be null (no bias). Sums run in a fixed order for the shape.
    /// </summary>
    public static void GradWeight(float* x, float* dy, float* y, float* indices, float* dw, float* db, in ConvGeometry g, in PoolGeometry p)
    {
        int sums = g.R * g.S + 1, parts = Math.Min(g.N, GradParts);
        var job = new GradJob { G = g, PoolH = p.OutH, PoolW = p.OutW, Parts = parts, X = x, Dy = dy, Y = y, Indices = indices };
        job.Partials = ConvBuffers.Partials((long)parts * g.K * sums * Vector512<float>.Count);
        long macs = (long)g.N * g.K * g.R * g.S * g.OutH * g.OutW;
        int threads = macs >= ConvGemm.MinMacsForThreads && parts >= 2 ? Math.Min(Gemm.MaxThreads, parts) : 1;
        WorkerPool.Run(parts, threads, &GradPart, &job);
        var acc = (Vector512<float>*)job.Partials;
        for (int k = 0; k < g.K; k++)
            for (int t = 0; t < sums; t++)
            {
                var total = Vector512<float>.Zero;
                for (int part = 0; part < parts; part++) total += acc[((long)part * g.K + k) * sums + t];
                float sum = Vector512.Sum(total);
                if (t < sums - 1) dw[k * (sums - 1) + t] = sum;
                else if (db is not null) db[k] = sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(GradJob*)state;
        var g = job.G;
        int ph = job.PoolH, pw = job.PoolW, pooled = ph * pw, taps = g.R * g.S, sums = taps + 1, cols = g.S + 1;
        var acc = (Vector512<float>*)job.Partials + (long)part * g.K * sums;
        new Span<float>(acc, g.K * sums * Vector512<float>.Count).Clear();
        // xs[ro * (S + 1) + co], lane l: x[n, 2 i + ro, 2 (j + l) + co], every row and column offset a window tap reads.
        // 64-byte aligned (a stack allocation is not): split loads cost ~10% here.
        var xsRaw = stackalloc Vector512<float>[(DirectConv.MaxTaps + 1) * 2 + 1];
        var xs = (Vector512<float>*)(((nint)xsRaw + 63) & ~(nint)63);
        long total = (long)g.N * g.K * pooled;
        var lanes = Vector512<int>.Indices;
        var even = lanes * 2;
        var (right, below, diagonal) = (Vector512<float>.One, Vector512.Create((float)g.OutW), Vector512.Create(g.OutW + 1f));
        var (first, end) = WorkerPool.Slice(g.N, 1, parts, part);
        for (int n = first; n < end; n++)
            for (int i = 0; i < ph; i++)
                for (int j = 0; j < pw; j += 16)
                {
                    int outputs = Math.Min(16, pw - j);
                    // 2 outputs - 1 floats from each start: the even lanes the windows read, and no float past the row.
                    var mask0 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 1)).AsSingle();
                    var mask1 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 17)).AsSingle();
                    for (int ro = 0; ro <= g.R; ro++)
                        for (int co = 0; co < cols; co++)
                        {
                            float* src = job.X + ((long)n * g.H + 2 * i + ro) * g.W + 2 * j + co;
                            xs[ro * cols + co] = Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(src, mask0, default), even, Avx512F.MaskLoad(src + 16, mask1, default));
                        }
                    var outMask = Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle();
                    var topLeft = Vector512.ConvertToSingle(even + Vector512.Create(2 * i * g.OutW + 2 * j));
                    long at = (long)n * g.K * pooled + i * pw + j;
                    for (int k = 0; k < g.K; k++, at += pooled)
                    {
                        // Whole-vector loads where they stay inside the tensors (masked loads made this loop 1.3x
                        // slower); lanes past the row's windows read the next row, and their gradient is zeroed.
                        Vector512<float> grad, output, arg;
                        if (at + 16 <= total)
                            (grad, output, arg) = (Vector512.Load(job.Dy + at), Vector512.Load(job.Y + at), Vector512.Load(job.Indices + at));
                        else
                            (grad, output, arg) = (Avx512F.MaskLoad(job.Dy + at, outMask, default), Avx512F.MaskLoad(job.Y + at, outMask, default),
                                Avx512F.MaskLoad(job.Indices + at, outMask, default));
                        grad = Vector512.ConditionalSelect(outMask.AsInt32().AsSingle() & ~Vector512.LessThanOrEqual(output, default), grad, default);
                        var offset = arg - topLeft;
                        var g00 = Vector512.ConditionalSelect(Vector512.Equals(offset, default), grad, default);
                        var g01 = Vector512.ConditionalSelect(Vector512.Equals(offset, right), grad, default);
                        var g10 = Vector512.ConditionalSelect(Vector512.Equals(offset, below), grad, default);
                        var g11 = Vector512.ConditionalSelect(Vector512.Equals(offset, diagonal), grad, default);
                        var a = acc + k * sums;
                        for (int r = 0, t = 0; r < g.R; r++)
                        {
                            var top = xs + r * cols;
                            var bottom = top + cols;
                            for (int s = 0; s < g.S; s++, t++)
                            {
                                var sum = Avx512F.FusedMultiplyAdd(g00, top[s], a[t]);
                                sum = Avx512F.FusedMultiplyAdd(g01, top[s + 1], sum);
                                sum = Avx512F.FusedMultiplyAdd(g10, bottom[s], sum);
                                a[t] = Avx512F.FusedMultiplyAdd(g11, bottom[s + 1], sum);
                            }
                        }
                        a[taps] += grad;
                    }
                }
    }
}
