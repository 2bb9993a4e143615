using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// The three products of a tiny convolution (the digits-sized GAN, VAE and CNN layers: 10-16 images, 1-16 channels,
/// planes of 8x8 and less) with the batch in the vector lanes: up to 16 samples are transposed so that each (channel,
/// row, column) is one 16-float vector, and every product becomes a small matrix product of whole vectors with no
/// im2col copy, no GEMM packing and no per-call GEMM setup, which at these sizes cost more than the multiply-adds.
/// <list type="bullet">
/// <item>forward: y[k, p] = bias[k] + sum over taps t of w[k, t] x[p + t], the input in a zero-bordered copy, so no tap
/// is bounds-checked; 4 filters x 4 output pixels per register tile. Taps are summed in the GEMM's order, from zero,
/// and the bias added last, so the result is the GEMM path's bit for bit;</item>
/// <item>input gradient: cols[t, p] = sum over k of w[k, t] dy[k, p] in a 4 x 4 tile, each added straight onto the
/// zero-bordered dx at p + t (the col2im pass done on registers);</item>
/// <item>weight gradient: dw[k, t] = sum over p and lanes of dy[k, p] x[p + t] in a 4 x 4 tile, the 16 lane sums of a
/// tile reduced together by a tree of two-source permutes.</item>
/// </list>
/// A pixel p and a tap t (c, r, s) are offsets into the bordered input: ((c Hp + p_h stride + r dilation) Wp + ...) 16.
/// Batches past 16 run in blocks of 16; lanes past the batch hold zeros. Single-threaded: these layers are smaller
/// than a worker's wake-up.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectConvLanes
{
    private const int Lanes = 16;

    /// <summary>Sends every convolution to the GEMM path (benchmarks compare the two; tests call the kernels directly).</summary>
    internal static bool Disabled { get; set; }

    /// <summary>Scratch a block may use (the bordered input, or the output, in lanes), and the largest tap or pixel tables.</summary>
    private const int MaxScratchFloats = 64 * 1024, MaxTable = 2048;

    /// <summary>
    /// Multiply-adds from which a layer is the (threaded) GEMM path's: ConvGemm's default threading threshold, as a
    /// constant, so that tuning that threshold (tests, conv-quick) never moves a layer between the two paths, whose
    /// gradients differ in the last bits.
    /// </summary>
    private const long MaxMacs = 1L << 19;

    /// <summary>
    /// Whether the backend takes this convolution here: AVX-512, no groups, at least half the lanes of the last block
    /// filled, small enough to stay single-threaded and in L1/L2 (larger layers are the GEMM's).
    /// </summary>
    public static bool Applies(in ConvGeometry g)
    {
        if (Disabled || !Avx512F.IsSupported || g.Groups != 1 || g.N < 1) return false;
        int blocks = (g.N + Lanes - 1) / Lanes;
        if (2 * g.N < blocks * Lanes) return false;
        long macs = (long)g.N * g.K * g.C * g.R * g.S * g.OutH * g.OutW;
        return macs < MaxMacs && Fits(g);
    }

    /// <summary>The scratch and table limits, whatever the batch (tests call the kernels on any batch).</summary>
    internal static bool Fits(in ConvGeometry g)
    {
        var (hp, wp) = Bordered(g);
        long taps = (long)g.C * g.R * g.S, pixels = (long)g.OutH * g.OutW;
        return taps <= MaxTable && pixels <= MaxTable && (long)g.C * hp * wp * Lanes <= MaxScratchFloats
            && (long)g.K * pixels * Lanes <= MaxScratchFloats && g.Groups == 1;
    }

    /// <summary>The bordered input's rows and columns: the padding before, the input, and whatever the last taps reach after it.</summary>
    private static (int Hp, int Wp) Bordered(in ConvGeometry g) =>
        (Math.Max(g.PadH + g.H, (g.OutH - 1) * g.StrideH + (g.R - 1) * g.DilationH + 1),
         Math.Max(g.PadW + g.W, (g.OutW - 1) * g.StrideW + (g.S - 1) * g.DilationW + 1));

    /// <summary>Offsets (floats) of each output pixel's first tap and of each tap from it, in the bordered input.</summary>
    private static void Offsets(in ConvGeometry g, int hp, int wp, int* pixel, int* tap)
    {
        for (int p = 0, j = 0; p < g.OutH; p++)
            for (int q = 0; q < g.OutW; q++, j++) pixel[j] = (p * g.StrideH * wp + q * g.StrideW) * Lanes;
        for (int c = 0, t = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++, t++) tap[t] = ((c * hp + r * g.DilationH) * wp + s * g.DilationW) * Lanes;
    }

    public static void Forward(float* x, float* w, float* bias, float* y, in ConvGeometry g)
    {
        var (hp, wp) = Bordered(g);
        int pixels = g.OutH * g.OutW, taps = g.C * g.R * g.S;
        int* pixel = stackalloc int[pixels];
        int* tap = stackalloc int[taps];
        Offsets(g, hp, wp, pixel, tap);
        float* xs = ConvBuffers.Cols((long)g.C * hp * wp * Lanes), ys = ConvBuffers.Rows((long)g.K * pixels * Lanes);
        long chw = (long)g.C * g.H * g.W, kpq = (long)g.K * pixels;
        for (int n = 0; n < g.N; n += Lanes)
        {
            int b = Math.Min(Lanes, g.N - n);
            ToLanes(x + n * chw, b, g.C, g.H, g.W, xs, hp, wp, g.PadH, g.PadW);
            Correlate(xs, pixel, pixels, tap, taps, w, g.K, bias, ys);
            FromLanes(ys, b, g.K, g.OutH, g.OutW, g.OutH, g.OutW, 0, 0, y + n * kpq);
        }
    }

    public static void GradInput(float* dy, float* w, float* dx, in ConvGeometry g)
    {
        var (hp, wp) = Bordered(g);
        int pixels = g.OutH * g.OutW, taps = g.C * g.R * g.S;
        int* pixel = stackalloc int[pixels];
        int* tap = stackalloc int[taps];
        Offsets(g, hp, wp, pixel, tap);
        float* dxs = ConvBuffers.Cols((long)g.C * hp * wp * Lanes), dys = ConvBuffers.Rows((long)g.K * pixels * Lanes);
        long chw = (long)g.C * g.H * g.W, kpq = (long)g.K * pixels;
        for (int n = 0; n < g.N; n += Lanes)
        {
            int b = Math.Min(Lanes, g.N - n);
            ToLanes(dy + n * kpq, b, g.K, g.OutH, g.OutW, dys, g.OutH, g.OutW, 0, 0);
            new Span<float>(dxs, g.C * hp * wp * Lanes).Clear();
            ScatterProduct(dys, pixel, pixels, tap, taps, w, g.K, dxs);
            FromLanes(dxs, b, g.C, g.H, g.W, hp, wp, g.PadH, g.PadW, dx + n * chw);
        }
    }

    public static void GradWeight(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        var (hp, wp) = Bordered(g);
        int pixels = g.OutH * g.OutW, taps = g.C * g.R * g.S;
        int* pixel = stackalloc int[pixels];
        int* tap = stackalloc int[taps];
        Offsets(g, hp, wp, pixel, tap);
        if (g.N == 0) new Span<float>(dw, g.K * taps).Clear();
        float* xs = ConvBuffers.Cols((long)g.C * hp * wp * Lanes), dys = ConvBuffers.Rows((long)g.K * pixels * Lanes);
        long chw = (long)g.C * g.H * g.W, kpq = (long)g.K * pixels;
        for (int n = 0; n < g.N; n += Lanes)
        {
            int b = Math.Min(Lanes, g.N - n);
            ToLanes(x + n * chw, b, g.C, g.H, g.W, xs, hp, wp, g.PadH, g.PadW);
            ToLanes(dy + n * kpq, b, g.K, g.OutH, g.OutW, dys, g.OutH, g.OutW, 0, 0);
            Reduce(dys, xs, pixel, pixels, tap, taps, g.K, dw, accumulate: n > 0);
        }
    }

    /// <summary>
    /// dst[k, j] = bias[k] + sum over t of w[k, t] src[pixel[j] + tap[t]], in lanes. Rows and pixels past the end of a
    /// 4 x 4 tile repeat the last one and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Correlate(float* src, int* pixel, int pixels, int* tap, int taps, float* w, int rows, float* bias, float* dst)
    {
        var acc = stackalloc Vector512<float>[16];
        for (int k0 = 0; k0 < rows; k0 += 4)
        {
            float* w0 = w + (long)k0 * taps, w1 = w + (long)Math.Min(k0 + 1, rows - 1) * taps;
            float* w2 = w + (long)Math.Min(k0 + 2, rows - 1) * taps, w3 = w + (long)Math.Min(k0 + 3, rows - 1) * taps;
            for (int j0 = 0; j0 < pixels; j0 += 4)
            {
                float* s0 = src + pixel[j0], s1 = src + pixel[Math.Min(j0 + 1, pixels - 1)];
                float* s2 = src + pixel[Math.Min(j0 + 2, pixels - 1)], s3 = src + pixel[Math.Min(j0 + 3, pixels - 1)];
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
                for (int t = 0; t < taps; t++)
                {
                    int o = tap[t];
                    var x0 = Vector512.Load(s0 + o);
                    var x1 = Vector512.Load(s1 + o);
                    var x2 = Vector512.Load(s2 + o);
                    var x3 = Vector512.Load(s3 + o);
                    var v = Vector512.Create(w0[t]);
                    a00 = Avx512F.FusedMultiplyAdd(v, x0, a00); a01 = Avx512F.FusedMultiplyAdd(v, x1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(v, x2, a02); a03 = Avx512F.FusedMultiplyAdd(v, x3, a03);
                    v = Vector512.Create(w1[t]);
                    a10 = Avx512F.FusedMultiplyAdd(v, x0, a10); a11 = Avx512F.FusedMultiplyAdd(v, x1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(v, x2, a12); a13 = Avx512F.FusedMultiplyAdd(v, x3, a13);
                    v = Vector512.Create(w2[t]);
                    a20 = Avx512F.FusedMultiplyAdd(v, x0, a20); a21 = Avx512F.FusedMultiplyAdd(v, x1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(v, x2, a22); a23 = Avx512F.FusedMultiplyAdd(v, x3, a23);
                    v = Vector512.Create(w3[t]);
                    a30 = Avx512F.FusedMultiplyAdd(v, x0, a30); a31 = Avx512F.FusedMultiplyAdd(v, x1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(v, x2, a32); a33 = Avx512F.FusedMultiplyAdd(v, x3, a33);
                }
                if (k0 + 4 <= rows && j0 + 4 <= pixels)
                {
                    // A whole tile: four rows of four consecutive pixels, stored from the registers.
                    float* d0 = dst + ((long)k0 * pixels + j0) * Lanes, d1 = d0 + (long)pixels * Lanes, d2 = d1 + (long)pixels * Lanes, d3 = d2 + (long)pixels * Lanes;
                    if (bias is not null)
                    {
                        // The bias last, as the GEMM path adds it.
                        var b0 = Vector512.Create(bias[k0]);
                        var b1 = Vector512.Create(bias[k0 + 1]);
                        var b2 = Vector512.Create(bias[k0 + 2]);
                        var b3 = Vector512.Create(bias[k0 + 3]);
                        (a00, a01, a02, a03) = (a00 + b0, a01 + b0, a02 + b0, a03 + b0);
                        (a10, a11, a12, a13) = (a10 + b1, a11 + b1, a12 + b1, a13 + b1);
                        (a20, a21, a22, a23) = (a20 + b2, a21 + b2, a22 + b2, a23 + b2);
                        (a30, a31, a32, a33) = (a30 + b3, a31 + b3, a32 + b3, a33 + b3);
                    }
                    Vector512.Store(a00, d0); Vector512.Store(a01, d0 + Lanes); Vector512.Store(a02, d0 + 2 * Lanes); Vector512.Store(a03, d0 + 3 * Lanes);
                    Vector512.Store(a10, d1); Vector512.Store(a11, d1 + Lanes); Vector512.Store(a12, d1 + 2 * Lanes); Vector512.Store(a13, d1 + 3 * Lanes);
                    Vector512.Store(a20, d2); Vector512.Store(a21, d2 + Lanes); Vector512.Store(a22, d2 + 2 * Lanes); Vector512.Store(a23, d2 + 3 * Lanes);
                    Vector512.Store(a30, d3); Vector512.Store(a31, d3 + Lanes); Vector512.Store(a32, d3 + 2 * Lanes); Vector512.Store(a33, d3 + 3 * Lanes);
                    continue;
                }
                acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a10; acc[5] = a11; acc[6] = a12; acc[7] = a13;
                acc[8] = a20; acc[9] = a21; acc[10] = a22; acc[11] = a23; acc[12] = a30; acc[13] = a31; acc[14] = a32; acc[15] = a33;
                for (int i = 0; i < 4 && k0 + i < rows; i++)
                {
                    var b = bias is null ? Vector512<float>.Zero : Vector512.Create(bias[k0 + i]);
                    for (int j = 0; j < 4 && j0 + j < pixels; j++)
                    {
                        var sum = acc[i * 4 + j];
                        if (bias is not null) sum += b;
                        Vector512.Store(sum, dst + ((long)(k0 + i) * pixels + j0 + j) * Lanes);
                    }
                }
            }
        }
    }

    /// <summary>
    /// dst[pixel[j] + tap[t]] += sum over k of w[k, t] src[k, j]: the transposed product, each tile element added onto the
    /// bordered input gradient as it leaves the registers. Taps and pixels past the end of a tile repeat the last one and
    /// are not added.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterProduct(float* src, int* pixel, int pixels, int* tap, int taps, float* w, int rows, float* dst)
    {
        var acc = stackalloc Vector512<float>[16];
        long rowStride = (long)pixels * Lanes;
        for (int t0 = 0; t0 < taps; t0 += 4)
        {
            int t1 = Math.Min(t0 + 1, taps - 1), t2 = Math.Min(t0 + 2, taps - 1), t3 = Math.Min(t0 + 3, taps - 1);
            for (int j0 = 0; j0 < pixels; j0 += 4)
            {
                float* s0 = src + (long)j0 * Lanes, s1 = src + (long)Math.Min(j0 + 1, pixels - 1) * Lanes;
                float* s2 = src + (long)Math.Min(j0 + 2, pixels - 1) * Lanes, s3 = src + (long)Math.Min(j0 + 3, pixels - 1) * Lanes;
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
                float* wk = w;
                for (int k = 0; k < rows; k++, wk += taps)
                {
                    long o = k * rowStride;
                    var x0 = Vector512.Load(s0 + o);
                    var x1 = Vector512.Load(s1 + o);
                    var x2 = Vector512.Load(s2 + o);
                    var x3 = Vector512.Load(s3 + o);
                    var v = Vector512.Create(wk[t0]);
                    a00 = Avx512F.FusedMultiplyAdd(v, x0, a00); a01 = Avx512F.FusedMultiplyAdd(v, x1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(v, x2, a02); a03 = Avx512F.FusedMultiplyAdd(v, x3, a03);
                    v = Vector512.Create(wk[t1]);
                    a10 = Avx512F.FusedMultiplyAdd(v, x0, a10); a11 = Avx512F.FusedMultiplyAdd(v, x1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(v, x2, a12); a13 = Avx512F.FusedMultiplyAdd(v, x3, a13);
                    v = Vector512.Create(wk[t2]);
                    a20 = Avx512F.FusedMultiplyAdd(v, x0, a20); a21 = Avx512F.FusedMultiplyAdd(v, x1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(v, x2, a22); a23 = Avx512F.FusedMultiplyAdd(v, x3, a23);
                    v = Vector512.Create(wk[t3]);
                    a30 = Avx512F.FusedMultiplyAdd(v, x0, a30); a31 = Avx512F.FusedMultiplyAdd(v, x1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(v, x2, a32); a33 = Avx512F.FusedMultiplyAdd(v, x3, a33);
                }
                if (t0 + 4 <= taps && j0 + 4 <= pixels)
                {
                    // A whole tile, added from the registers one read-modify-write at a time (two elements may share a pixel).
                    float* q0 = dst + pixel[j0], q1 = dst + pixel[j0 + 1], q2 = dst + pixel[j0 + 2], q3 = dst + pixel[j0 + 3];
                    int o0 = tap[t0], o1 = tap[t1], o2 = tap[t2], o3 = tap[t3];
                    Add(q0 + o0, a00); Add(q1 + o0, a01); Add(q2 + o0, a02); Add(q3 + o0, a03);
                    Add(q0 + o1, a10); Add(q1 + o1, a11); Add(q2 + o1, a12); Add(q3 + o1, a13);
                    Add(q0 + o2, a20); Add(q1 + o2, a21); Add(q2 + o2, a22); Add(q3 + o2, a23);
                    Add(q0 + o3, a30); Add(q1 + o3, a31); Add(q2 + o3, a32); Add(q3 + o3, a33);
                    continue;
                }
                acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a10; acc[5] = a11; acc[6] = a12; acc[7] = a13;
                acc[8] = a20; acc[9] = a21; acc[10] = a22; acc[11] = a23; acc[12] = a30; acc[13] = a31; acc[14] = a32; acc[15] = a33;
                for (int i = 0; i < 4 && t0 + i < taps; i++)
                    for (int j = 0; j < 4 && j0 + j < pixels; j++) Add(dst + pixel[j0 + j] + tap[t0 + i], acc[i * 4 + j]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* at, Vector512<float> v) => Vector512.Store(Vector512.Load(at) + v, at);

    /// <summary>
    /// dw[k, t] (+)= sum over j and lanes of dy[k, j] src[pixel[j] + tap[t]]. Filters and taps past the end of a 4 x 4
    /// tile repeat the last one and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Reduce(float* dy, float* src, int* pixel, int pixels, int* tap, int taps, int rows, float* dw, bool accumulate)
    {
        var sums = stackalloc float[16];
        long rowStride = (long)pixels * Lanes;
        for (int k0 = 0; k0 < rows; k0 += 4)
        {
            float* d0 = dy + k0 * rowStride, d1 = dy + Math.Min(k0 + 1, rows - 1) * rowStride;
            float* d2 = dy + Math.Min(k0 + 2, rows - 1) * rowStride, d3 = dy + Math.Min(k0 + 3, rows - 1) * rowStride;
            for (int t0 = 0; t0 < taps; t0 += 4)
            {
                int o0 = tap[t0], o1 = tap[Math.Min(t0 + 1, taps - 1)], o2 = tap[Math.Min(t0 + 2, taps - 1)], o3 = tap[Math.Min(t0 + 3, taps - 1)];
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
                for (int j = 0; j < pixels; j++)
                {
                    float* xs = src + pixel[j];
                    var x0 = Vector512.Load(xs + o0);
                    var x1 = Vector512.Load(xs + o1);
                    var x2 = Vector512.Load(xs + o2);
                    var x3 = Vector512.Load(xs + o3);
                    long at = (long)j * Lanes;
                    var v = Vector512.Load(d0 + at);
                    a00 = Avx512F.FusedMultiplyAdd(v, x0, a00); a01 = Avx512F.FusedMultiplyAdd(v, x1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(v, x2, a02); a03 = Avx512F.FusedMultiplyAdd(v, x3, a03);
                    v = Vector512.Load(d1 + at);
                    a10 = Avx512F.FusedMultiplyAdd(v, x0, a10); a11 = Avx512F.FusedMultiplyAdd(v, x1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(v, x2, a12); a13 = Avx512F.FusedMultiplyAdd(v, x3, a13);
                    v = Vector512.Load(d2 + at);
                    a20 = Avx512F.FusedMultiplyAdd(v, x0, a20); a21 = Avx512F.FusedMultiplyAdd(v, x1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(v, x2, a22); a23 = Avx512F.FusedMultiplyAdd(v, x3, a23);
                    v = Vector512.Load(d3 + at);
                    a30 = Avx512F.FusedMultiplyAdd(v, x0, a30); a31 = Avx512F.FusedMultiplyAdd(v, x1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(v, x2, a32); a33 = Avx512F.FusedMultiplyAdd(v, x3, a33);
                }
                var all = LaneSums(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
                if (k0 + 4 <= rows && t0 + 4 <= taps)
                {
                    // A whole tile: lanes 4i to 4i + 3 are filter k0 + i's four taps.
                    float* r0 = dw + (long)k0 * taps + t0;
                    Put(r0, all.GetLower().GetLower(), accumulate);
                    Put(r0 + taps, all.GetLower().GetUpper(), accumulate);
                    Put(r0 + 2 * taps, all.GetUpper().GetLower(), accumulate);
                    Put(r0 + 3 * taps, all.GetUpper().GetUpper(), accumulate);
                    continue;
                }
                Vector512.Store(all, sums);
                for (int i = 0; i < 4 && k0 + i < rows; i++)
                {
                    float* row = dw + (long)(k0 + i) * taps + t0;
                    for (int j = 0; j < 4 && t0 + j < taps; j++) row[j] = accumulate ? row[j] + sums[i * 4 + j] : sums[i * 4 + j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* at, Vector128<float> v, bool accumulate) => Vector128.Store(accumulate ? Vector128.Load(at) + v : v, at);

    /// <summary>Lane l of the result is the sum of the 16 lanes of the l-th argument: four levels of pairwise sums, two vectors at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LaneSums(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7, Vector512<float> a8, Vector512<float> a9,
        Vector512<float> a10, Vector512<float> a11, Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15)
    {
        // Pairs(a, b): lanes 0-7 are a's adjacent pairs summed, lanes 8-15 b's. After level m each argument has 16 / 2^m
        // partial sums, in argument order, so after four levels lane l holds argument l's total.
        var b0 = Pairs(a0, a1); var b1 = Pairs(a2, a3); var b2 = Pairs(a4, a5); var b3 = Pairs(a6, a7);
        var b4 = Pairs(a8, a9); var b5 = Pairs(a10, a11); var b6 = Pairs(a12, a13); var b7 = Pairs(a14, a15);
        var c0 = Pairs(b0, b1); var c1 = Pairs(b2, b3); var c2 = Pairs(b4, b5); var c3 = Pairs(b6, b7);
        return Pairs(Pairs(c0, c1), Pairs(c2, c3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs(Vector512<float> a, Vector512<float> b)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        return Avx512F.PermuteVar16x32x2(a, even, b) + Avx512F.PermuteVar16x32x2(a, odd, b);
    }

    /// <summary>
    /// Transposes b rows (samples) of channels x h x w floats into one 16-lane vector per (channel, row, column), placed
    /// in planes of hp x wp at (top, left); the border and lanes from b on are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToLanes(float* src, int b, int channels, int h, int w, float* dst, int hp, int wp, int top, int left)
    {
        int features = channels * h * w;
        bool bordered = hp != h || wp != w;
        if (bordered) new Span<float>(dst, channels * hp * wp * Lanes).Clear();
        var block = stackalloc Vector512<float>[Lanes];
        int c = 0, i = 0, j = 0; // the next feature's channel, row and column
        for (int f0 = 0; f0 < features; f0 += Lanes)
        {
            int count = Math.Min(Lanes, features - f0);
            // Rows from b on load nothing (an all-false mask reads no memory) and stay zero.
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            float* s0 = src + f0;
            Vector512<float> r0 = Row(s0, 0, b, features, mask), r1 = Row(s0, 1, b, features, mask), r2 = Row(s0, 2, b, features, mask), r3 = Row(s0, 3, b, features, mask);
            Vector512<float> r4 = Row(s0, 4, b, features, mask), r5 = Row(s0, 5, b, features, mask), r6 = Row(s0, 6, b, features, mask), r7 = Row(s0, 7, b, features, mask);
            Vector512<float> r8 = Row(s0, 8, b, features, mask), r9 = Row(s0, 9, b, features, mask), r10 = Row(s0, 10, b, features, mask), r11 = Row(s0, 11, b, features, mask);
            Vector512<float> r12 = Row(s0, 12, b, features, mask), r13 = Row(s0, 13, b, features, mask), r14 = Row(s0, 14, b, features, mask), r15 = Row(s0, 15, b, features, mask);
            Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ref r8, ref r9, ref r10, ref r11, ref r12, ref r13, ref r14, ref r15);
            if (!bordered && count == Lanes)
            {
                float* d = dst + (long)f0 * Lanes;
                Vector512.Store(r0, d); Vector512.Store(r1, d + 16); Vector512.Store(r2, d + 32); Vector512.Store(r3, d + 48);
                Vector512.Store(r4, d + 64); Vector512.Store(r5, d + 80); Vector512.Store(r6, d + 96); Vector512.Store(r7, d + 112);
                Vector512.Store(r8, d + 128); Vector512.Store(r9, d + 144); Vector512.Store(r10, d + 160); Vector512.Store(r11, d + 176);
                Vector512.Store(r12, d + 192); Vector512.Store(r13, d + 208); Vector512.Store(r14, d + 224); Vector512.Store(r15, d + 240);
                continue;
            }
            block[0] = r0; block[1] = r1; block[2] = r2; block[3] = r3; block[4] = r4; block[5] = r5; block[6] = r6; block[7] = r7;
            block[8] = r8; block[9] = r9; block[10] = r10; block[11] = r11; block[12] = r12; block[13] = r13; block[14] = r14; block[15] = r15;
            if (!bordered)
                for (int f = 0; f < count; f++) Vector512.Store(block[f], dst + (long)(f0 + f) * Lanes);
            else
                for (int f = 0; f < count; f++)
                {
                    Vector512.Store(block[f], dst + ((long)(c * hp + top + i) * wp + left + j) * Lanes);
                    if (++j == w) { j = 0; if (++i == h) { i = 0; c++; } }
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* s0, int n, int b, int features, Vector512<float> mask) =>
        Avx512F.MaskLoad(s0 + (long)n * features, n < b ? mask : Vector512<float>.Zero, Vector512<float>.Zero);

    /// <summary>The inverse of <see cref="ToLanes"/>: the first b lanes of each vector back to rows of channels x h x w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FromLanes(float* src, int b, int channels, int h, int w, int hp, int wp, int top, int left, float* dst)
    {
        int features = channels * h * w;
        bool bordered = hp != h || wp != w;
        var block = stackalloc Vector512<float>[Lanes];
        int c = 0, i = 0, j = 0;
        for (int f0 = 0; f0 < features; f0 += Lanes)
        {
            int count = Math.Min(Lanes, features - f0);
            if (!bordered && count == Lanes && b == Lanes)
            {
                // A whole block of a full batch: from 16 vectors to 16 rows in registers.
                float* s0 = src + (long)f0 * Lanes, d = dst + f0;
                Vector512<float> r0 = Vector512.Load(s0), r1 = Vector512.Load(s0 + 16), r2 = Vector512.Load(s0 + 32), r3 = Vector512.Load(s0 + 48);
                Vector512<float> r4 = Vector512.Load(s0 + 64), r5 = Vector512.Load(s0 + 80), r6 = Vector512.Load(s0 + 96), r7 = Vector512.Load(s0 + 112);
                Vector512<float> r8 = Vector512.Load(s0 + 128), r9 = Vector512.Load(s0 + 144), r10 = Vector512.Load(s0 + 160), r11 = Vector512.Load(s0 + 176);
                Vector512<float> r12 = Vector512.Load(s0 + 192), r13 = Vector512.Load(s0 + 208), r14 = Vector512.Load(s0 + 224), r15 = Vector512.Load(s0 + 240);
                Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ref r8, ref r9, ref r10, ref r11, ref r12, ref r13, ref r14, ref r15);
                Vector512.Store(r0, d); Vector512.Store(r1, d + features); Vector512.Store(r2, d + 2 * features); Vector512.Store(r3, d + 3 * features);
                Vector512.Store(r4, d + 4 * features); Vector512.Store(r5, d + 5 * features); Vector512.Store(r6, d + 6 * features); Vector512.Store(r7, d + 7 * features);
                Vector512.Store(r8, d + 8 * features); Vector512.Store(r9, d + 9 * features); Vector512.Store(r10, d + 10 * features); Vector512.Store(r11, d + 11 * features);
                Vector512.Store(r12, d + 12 * features); Vector512.Store(r13, d + 13 * features); Vector512.Store(r14, d + 14 * features); Vector512.Store(r15, d + 15 * features);
                continue;
            }
            if (!bordered)
                for (int f = 0; f < count; f++) block[f] = Vector512.Load(src + (long)(f0 + f) * Lanes);
            else
                for (int f = 0; f < count; f++)
                {
                    block[f] = Vector512.Load(src + ((long)(c * hp + top + i) * wp + left + j) * Lanes);
                    if (++j == w) { j = 0; if (++i == h) { i = 0; c++; } }
                }
            for (int f = count; f < Lanes; f++) block[f] = Vector512<float>.Zero;
            Transpose(block);
            if (count == Lanes)
                for (int n = 0; n < b; n++) Vector512.Store(block[n], dst + (long)n * features + f0);
            else
            {
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                for (int n = 0; n < b; n++) Avx512F.MaskStore(dst + (long)n * features + f0, mask, block[n]);
            }
        }
    }

    /// <summary>
    /// Transposes the 16 x 16 block r0..r15 in registers: four rounds of interleaving row i with row i + 8. Each round
    /// moves element (row, column) to (row bits 2-0 : column bit 3, column bits 2-0 : row bit 3), a rotation of the eight
    /// index bits by one, so four rounds swap row and column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector512<float> r0, ref Vector512<float> r1, ref Vector512<float> r2, ref Vector512<float> r3,
        ref Vector512<float> r4, ref Vector512<float> r5, ref Vector512<float> r6, ref Vector512<float> r7,
        ref Vector512<float> r8, ref Vector512<float> r9, ref Vector512<float> r10, ref Vector512<float> r11,
        ref Vector512<float> r12, ref Vector512<float> r13, ref Vector512<float> r14, ref Vector512<float> r15)
    {
        var lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int round = 0; round < 2; round++)
        {
            var t0 = Avx512F.PermuteVar16x32x2(r0, lo, r8); var t1 = Avx512F.PermuteVar16x32x2(r0, hi, r8);
            var t2 = Avx512F.PermuteVar16x32x2(r1, lo, r9); var t3 = Avx512F.PermuteVar16x32x2(r1, hi, r9);
            var t4 = Avx512F.PermuteVar16x32x2(r2, lo, r10); var t5 = Avx512F.PermuteVar16x32x2(r2, hi, r10);
            var t6 = Avx512F.PermuteVar16x32x2(r3, lo, r11); var t7 = Avx512F.PermuteVar16x32x2(r3, hi, r11);
            var t8 = Avx512F.PermuteVar16x32x2(r4, lo, r12); var t9 = Avx512F.PermuteVar16x32x2(r4, hi, r12);
            var t10 = Avx512F.PermuteVar16x32x2(r5, lo, r13); var t11 = Avx512F.PermuteVar16x32x2(r5, hi, r13);
            var t12 = Avx512F.PermuteVar16x32x2(r6, lo, r14); var t13 = Avx512F.PermuteVar16x32x2(r6, hi, r14);
            var t14 = Avx512F.PermuteVar16x32x2(r7, lo, r15); var t15 = Avx512F.PermuteVar16x32x2(r7, hi, r15);
            r0 = Avx512F.PermuteVar16x32x2(t0, lo, t8); r1 = Avx512F.PermuteVar16x32x2(t0, hi, t8);
            r2 = Avx512F.PermuteVar16x32x2(t1, lo, t9); r3 = Avx512F.PermuteVar16x32x2(t1, hi, t9);
            r4 = Avx512F.PermuteVar16x32x2(t2, lo, t10); r5 = Avx512F.PermuteVar16x32x2(t2, hi, t10);
            r6 = Avx512F.PermuteVar16x32x2(t3, lo, t11); r7 = Avx512F.PermuteVar16x32x2(t3, hi, t11);
            r8 = Avx512F.PermuteVar16x32x2(t4, lo, t12); r9 = Avx512F.PermuteVar16x32x2(t4, hi, t12);
            r10 = Avx512F.PermuteVar16x32x2(t5, lo, t13); r11 = Avx512F.PermuteVar16x32x2(t5, hi, t13);
            r12 = Avx512F.PermuteVar16x32x2(t6, lo, t14); r13 = Avx512F.PermuteVar16x32x2(t6, hi, t14);
            r14 = Avx512F.PermuteVar16x32x2(t7, lo, t15); r15 = Avx512F.PermuteVar16x32x2(t7, hi, t15);
        }
    }

    /// <summary>The block m[0..16) transposed in place (see the register form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector512<float>* m)
    {
        Vector512<float> r0 = m[0], r1 = m[1], r2 = m[2], r3 = m[3], r4 = m[4], r5 = m[5], r6 = m[6], r7 = m[7];
        Vector512<float> r8 = m[8], r9 = m[9], r10 = m[10], r11 = m[11], r12 = m[12], r13 = m[13], r14 = m[14], r15 = m[15];
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ref r8, ref r9, ref r10, ref r11, ref r12, ref r13, ref r14, ref r15);
        m[0] = r0; m[1] = r1; m[2] = r2; m[3] = r3; m[4] = r4; m[5] = r5; m[6] = r6; m[7] = r7;
        m[8] = r8; m[9] = r9; m[10] = r10; m[11] = r11; m[12] = r12; m[13] = r13; m[14] = r14; m[15] = r15;
    }
}
