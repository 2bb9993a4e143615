using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// Max and average pooling over N C planes, and their gradients. Window bounds are clipped once per output
/// instead of tested per tap, and the common 2x2 stride 2 max pool (every CNN here) runs 16 windows per
/// AVX-512 step, forward and backward, which also keeps its data-dependent comparisons out of the branch predictor.
/// Max pooling picks the first maximum of a window in row-major order, or its last NaN (so NaNs propagate),
/// as PyTorch does, and records the winner as an index into the input plane (-1 for a dilated window with
/// no tap inside the input: its output is -inf and it passes no gradient).
/// </summary>
internal static unsafe class Pooling
{
    internal static bool IsTwoByTwo(in PoolGeometry g) =>
        g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0
        && g.DilationH == 1 && g.DilationW == 1 && g.OutH == g.H / 2 && g.OutW == g.W / 2; // no partial ceil-mode window

    /// <summary>Pooling is split over threads, by planes, from this many input floats (it is memory-bound: two cores stream faster than one).</summary>
    internal static long MinFloatsForThreads { get; set; } = 1L << 16;

    private enum Kind { Max, MaxGrad, MaxGather, Avg, AvgGrad, ReluMax, ReluMaxGrad }

    /// <summary>One pooling call as plain values and pointers (workers read it from the caller's stack).</summary>
    private struct Job
    {
        public Kind Kind;
        public PoolGeometry G;
        public float* X, Y, Indices, Dy, Dx;
    }

    public static void Max(float* x, float* y, float* indices, in PoolGeometry g) =>
        Run(new Job { Kind = Kind.Max, G = g, X = x, Y = y, Indices = indices });

    /// <summary>Runs a job over all N C planes, in parts of whole planes on the worker pool when it is large enough.</summary>
    private static void Run(Job job)
    {
        ref readonly var g = ref job.G;
        int planes = g.N * g.C;
        long floats = (long)planes * g.H * g.W;
        int threads = floats >= MinFloatsForThreads && planes >= 2 ? Math.Min(Gemm.MaxThreads, planes) : 1;
        int parts = threads == 1 ? 1 : Math.Min(planes, 4 * threads);
        WorkerPool.Run(parts, threads, &RunPart, &job);
    }

    private static void RunPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (first, end) = WorkerPool.Slice(job.G.N * job.G.C, 1, parts, part);
        switch (job.Kind)
        {
            case Kind.Max: MaxPlanes(job.X, job.Y, job.Indices, job.G, first, end, relu: false); break;
            case Kind.ReluMax: MaxPlanes(job.X, job.Y, job.Indices, job.G, first, end, relu: true); break;
            case Kind.ReluMaxGrad: ReluMaxGradPlanes(job.Dy, job.Y, job.Indices, job.Dx, job.G, first, end); break;
            case Kind.MaxGrad: MaxGradPlanes(job.Dy, job.Indices, job.Dx, job.G, first, end); break;
            case Kind.MaxGather: MaxGatherPlanes(job.X, job.Indices, job.Y, job.G, first, end); break;
            case Kind.Avg: AvgPlanes(job.X, job.Y, job.G, first, end); break;
            default: AvgGradPlanes(job.Dy, job.Dx, job.G, first, end); break;
        }
    }

    /// <summary>
    /// Max pooling of relu(x) in one pass: relu(max) equals max(relu) bit for bit, and where the max is positive the
    /// first maximum of relu(x) is the first maximum of x, so y and the gradient (see <see cref="ReluMaxGrad"/>) are
    /// those of MaxPool2d(Relu(x)) without relu(x) ever written. Indices point at x's argmax even where the window is
    /// all at or below zero; that window's gradient is zero either way. Windows must all have a tap in the input.
    /// </summary>
    public static void ReluMax(float* x, float* y, float* indices, in PoolGeometry g) =>
        Run(new Job { Kind = Kind.ReluMax, G = g, X = x, Y = y, Indices = indices });

    private static void MaxPlanes(float* x, float* y, float* indices, in PoolGeometry g, int first, int end, bool relu)
    {
        int hw = g.H * g.W, ohw = g.OutH * g.OutW;
        bool twoByTwo = IsTwoByTwo(g);
        for (int plane = first; plane < end; plane++)
        {
            float* src = x + (long)plane * hw;
            float* dst = y + (long)plane * ohw, idx = indices + (long)plane * ohw;
            if (twoByTwo && Avx512F.IsSupported) Max2x2(src, g.W, g.OutH, g.OutW, dst, idx, relu, null);
            else
            {
                MaxPlane(src, g, dst, idx);
                // As ReLU's kernel: 0 at or below zero, NaN kept.
                if (relu) for (int o = 0; o < ohw; o++) dst[o] = dst[o] <= 0f ? 0f : dst[o];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlane(float* src, in PoolGeometry g, float* dst, float* idx)
    {
        int dh = g.DilationH, dw = g.DilationW, outH = g.OutH, outW = g.OutW; // each size is a division: hoisted
        for (int p = 0; p < outH; p++)
        {
            int h0 = p * g.StrideH - g.PadH;
            var (rlo, rhi) = Taps(h0, g.KernelH, dh, g.H);
            for (int q = 0; q < outW; q++, dst++, idx++)
            {
                int w0 = q * g.StrideW - g.PadW;
                var (slo, shi) = Taps(w0, g.KernelW, dw, g.W);
                float best = float.NegativeInfinity;
                int arg = -1;
                for (int r = rlo; r < rhi; r++)
                {
                    int rowStart = (h0 + r * dh) * g.W + w0;
                    for (int s = slo; s < shi; s++)
                    {
                        int at = rowStart + s * dw;
                        float v = src[at];
                        if (v > best || arg < 0 || float.IsNaN(v)) { best = v; arg = at; }
                    }
                }
                *dst = best;
                *idx = arg;
            }
        }
    }

    /// <summary>The taps [lo, hi) of a window starting at <paramref name="start"/> that fall inside an axis of <paramref name="size"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) Taps(int start, int kernel, int dilation, int size)
    {
        int lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        int hi = start >= size ? 0 : Math.Min(kernel, (size - start + dilation - 1) / dilation);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>2x2 windows, stride 2: two input rows, deinterleaved into even and odd columns, give 16 windows at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Max2x2(float* src, int w, int outH, int outW, float* dst, float* idx, bool relu, float* bias)
    {
        var add = bias is null ? default : Vector512.Create(*bias);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var lanes = Vector512<int>.Indices;
        var twoLanes = Vector512.ConvertToSingle(lanes * 2);
        for (int p = 0; p < outH; p++)
        {
            float* top = src + 2 * p * w, bottom = top + w;
            float rowIndex = 2 * p * w;
            for (int q = 0; q < outW; q += 16)
            {
                int outputs = Math.Min(16, outW - q);
                var inMask0 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs)).AsSingle();
                var inMask1 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 16)).AsSingle();
                float* t = top + 2 * q, b = bottom + 2 * q;
                var t0 = Avx512F.MaskLoad(t, inMask0, default);
                var t1 = Avx512F.MaskLoad(t + 16, inMask1, default);
                var b0 = Avx512F.MaskLoad(b, inMask0, default);
                var b1 = Avx512F.MaskLoad(b + 16, inMask1, default);
                if (bias is not null) (t0, t1, b0, b1) = (t0 + add, t1 + add, b0 + add, b1 + add);
                // Taps in row-major window order: top-left, top-right, bottom-left, bottom-right.
                var topLeft = Vector512.Create(rowIndex + 2 * q) + twoLanes;
                var best = Avx512F.PermuteVar16x32x2(t0, even, t1);
                var arg = topLeft;
                Take(Avx512F.PermuteVar16x32x2(t0, odd, t1), topLeft + Vector512<float>.One, ref best, ref arg);
                Take(Avx512F.PermuteVar16x32x2(b0, even, b1), topLeft + Vector512.Create((float)w), ref best, ref arg);
                Take(Avx512F.PermuteVar16x32x2(b0, odd, b1), topLeft + Vector512.Create(w + 1f), ref best, ref arg);
                var outMask = Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle();
                if (relu) best = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(best, default), default, best);
                Avx512F.MaskStore(dst + q, outMask, best);
                Avx512F.MaskStore(idx + q, outMask, arg);
            }
            dst += outW;
            idx += outW;
        }
    }

    /// <summary>
    /// One plane of <see cref="ReluMax"/> with 2x2 windows (AVX-512), its input being a convolution's output before its
    /// bias, which is added to every element as it is loaded (the same single rounding as adding it first).
    /// </summary>
    internal static void ReluMax2x2BiasPlane(float* src, float* bias, int w, int outH, int outW, float* dst, float* idx) =>
        Max2x2(src, w, outH, outW, dst, idx, relu: true, bias);

    /// <summary>Where tap v is larger than the best so far, or NaN, it becomes the best and its index the argument.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> v, Vector512<float> at, ref Vector512<float> best, ref Vector512<float> arg)
    {
        var take = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
        best = Vector512.ConditionalSelect(take, v, best);
        arg = Vector512.ConditionalSelect(take, at, arg);
    }

    /// <summary>dx = 0, then each output's gradient is added at its recorded argmax (windows may overlap).</summary>
    public static void MaxGrad(float* dy, float* indices, float* dx, in PoolGeometry g) =>
        Run(new Job { Kind = Kind.MaxGrad, G = g, Dy = dy, Indices = indices, Dx = dx });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxGradPlanes(float* dy, float* indices, float* dx, in PoolGeometry g, int first, int end)
    {
        int hw = g.H * g.W, ohw = g.OutH * g.OutW;
        if (IsTwoByTwo(g) && Avx512F.IsSupported)
        {
            for (int plane = first; plane < end; plane++)
                MaxGrad2x2(dy + (long)plane * ohw, indices + (long)plane * ohw, g.H, g.W, g.OutH, g.OutW, dx + (long)plane * hw, null);
            return;
        }
        new Span<float>(dx + (long)first * hw, checked((end - first) * hw)).Clear();
        for (int plane = first; plane < end; plane++)
        {
            float* d = dx + (long)plane * hw, gy = dy + (long)plane * ohw, idx = indices + (long)plane * ohw;
            for (int o = 0; o < ohw; o++)
            {
                int at = (int)idx[o];
                if (at >= 0) d[at] += gy[o];
            }
        }
    }

    /// <summary>
    /// y[o] = x at output o's recorded argmax (0 where it has none): the adjoint of <see cref="MaxGrad"/>, so the
    /// gradient of max pooling's gradient, and the derivative of max pooling itself.
    /// </summary>
    public static void MaxGather(float* x, float* indices, float* y, in PoolGeometry g) =>
        Run(new Job { Kind = Kind.MaxGather, G = g, X = x, Indices = indices, Y = y });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxGatherPlanes(float* x, float* indices, float* y, in PoolGeometry g, int first, int end)
    {
        int hw = g.H * g.W, ohw = g.OutH * g.OutW;
        for (int plane = first; plane < end; plane++)
        {
            float* src = x + (long)plane * hw, dst = y + (long)plane * ohw, idx = indices + (long)plane * ohw;
            for (int o = 0; o < ohw; o++)
            {
                int at = (int)idx[o];
                dst[o] = at >= 0 ? src[at] : 0f;
            }
        }
    }

    /// <summary>
    /// 2x2 stride 2 windows do not overlap, so every input pixel is written exactly once, with its window's gradient
    /// where it was the argmax and zero elsewhere: no clearing pass and no scattered read-modify-writes. With the
    /// pooled outputs <paramref name="relu"/> given, windows whose output is at or below zero pass nothing (ReLU's mask).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxGrad2x2(float* dy, float* idx, int h, int w, int outH, int outW, float* dx, float* relu)
    {
        var lanes = Vector512<int>.Indices;
        var twoLanes = Vector512.ConvertToSingle(lanes * 2);
        // Interleaving the left and right taps of 16 windows gives 32 pixels of a row: the first and second 16.
        var first = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var second = first + Vector512.Create(8);
        for (int p = 0; p < outH; p++)
        {
            float* top = dx + 2 * p * w, bottom = top + w;
            float rowIndex = 2 * p * w;
            for (int q = 0; q < outW; q += 16)
            {
                int outputs = Math.Min(16, outW - q);
                var inMask = Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle();
                var grad = Avx512F.MaskLoad(dy + p * outW + q, inMask, default);
                if (relu is not null)
                    grad = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(Avx512F.MaskLoad(relu + p * outW + q, inMask, default), default), default, grad);
                var arg = Avx512F.MaskLoad(idx + p * outW + q, inMask, default);
                var topLeft = Vector512.Create(rowIndex + 2 * q) + twoLanes;
                var tl = Vector512.ConditionalSelect(Vector512.Equals(arg, topLeft), grad, default);
                var tr = Vector512.ConditionalSelect(Vector512.Equals(arg, topLeft + Vector512<float>.One), grad, default);
                var bl = Vector512.ConditionalSelect(Vector512.Equals(arg, topLeft + Vector512.Create((float)w)), grad, default);
                var br = Vector512.ConditionalSelect(Vector512.Equals(arg, topLeft + Vector512.Create(w + 1f)), grad, default);
                var mask0 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs)).AsSingle();
                var mask1 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 16)).AsSingle();
                Avx512F.MaskStore(top + 2 * q, mask0, Avx512F.PermuteVar16x32x2(tl, first, tr));
                Avx512F.MaskStore(bottom + 2 * q, mask0, Avx512F.PermuteVar16x32x2(bl, first, br));
                if (outputs > 8) // an empty masked store still costs a store slot
                {
                    Avx512F.MaskStore(top + 2 * q + 16, mask1, Avx512F.PermuteVar16x32x2(tl, second, tr));
                    Avx512F.MaskStore(bottom + 2 * q + 16, mask1, Avx512F.PermuteVar16x32x2(bl, second, br));
                }
            }
            if (2 * outW < w) { top[w - 1] = 0; bottom[w - 1] = 0; } // an odd last column is in no window
        }
        if (2 * outH < h) new Span<float>(dx + 2 * outH * w, w).Clear(); // nor is an odd last row
    }

    /// <summary>
    /// The gradient of <see cref="ReluMax"/>: dx = 0, then each output's gradient is added at its argmax where the
    /// output is positive (or NaN, which ReLU's gradient passes), in one pass instead of a scatter and a ReLU mask.
    /// </summary>
    public static void ReluMaxGrad(float* dy, float* y, float* indices, float* dx, in PoolGeometry g) =>
        Run(new Job { Kind = Kind.ReluMaxGrad, G = g, Dy = dy, Y = y, Indices = indices, Dx = dx });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReluMaxGradPlanes(float* dy, float* y, float* indices, float* dx, in PoolGeometry g, int first, int end)
    {
        int hw = g.H * g.W, ohw = g.OutH * g.OutW;
        if (IsTwoByTwo(g) && Avx512F.IsSupported)
        {
            for (int plane = first; plane < end; plane++)
                MaxGrad2x2(dy + (long)plane * ohw, indices + (long)plane * ohw, g.H, g.W, g.OutH, g.OutW, dx + (long)plane * hw,
                    y + (long)plane * ohw);
            return;
        }
        new Span<float>(dx + (long)first * hw, checked((end - first) * hw)).Clear();
        for (int plane = first; plane < end; plane++)
        {
            float* d = dx + (long)plane * hw, gy = dy + (long)plane * ohw, idx = indices + (long)plane * ohw, yp = y + (long)plane * ohw;
            for (int o = 0; o < ohw; o++)
            {
                int at = (int)idx[o];
                if (at >= 0 && !(yp[o] <= 0f)) d[at] += gy[o];
            }
        }
    }

    /// <summary>Mean over each window, divided by <see cref="PoolGeometry.AvgDivisor"/> (with padding by default, PyTorch's count_include_pad).</summary>
    public static void Avg(float* x, float* y, in PoolGeometry g) => Run(new Job { Kind = Kind.Avg, G = g, X = x, Y = y });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgPlanes(float* x, float* y, in PoolGeometry g, int first, int end)
    {
        int hw = g.H * g.W;
        if (IsTwoByTwo(g) && Avx512F.IsSupported)
        {
            for (int plane = first; plane < end; plane++)
                Avg2x2(x + (long)plane * hw, g.W, g.OutH, g.OutW, y + (long)plane * g.OutH * g.OutW);
            return;
        }
        int outH = g.OutH, outW = g.OutW;
        y += (long)first * outH * outW;
        for (int plane = first; plane < end; plane++)
        {
            float* src = x + (long)plane * hw;
            for (int p = 0; p < outH; p++)
            {
                int h0 = p * g.StrideH - g.PadH;
                int rlo = Math.Max(0, -h0), rhi = Math.Min(g.KernelH, g.H - h0);
                for (int q = 0; q < outW; q++)
                {
                    int w0 = q * g.StrideW - g.PadW;
                    int slo = Math.Max(0, -w0), shi = Math.Min(g.KernelW, g.W - w0);
                    float acc = 0;
                    for (int r = rlo; r < rhi; r++)
                    {
                        float* row = src + (h0 + r) * g.W + w0;
                        for (int s = slo; s < shi; s++) acc += row[s];
                    }
                    *y++ = acc * (1f / g.AvgDivisor(p, q));
                }
            }
        }
    }

    /// <summary>dx = 0, then each output's gradient, divided by its window's divisor, is spread over its window.</summary>
    public static void AvgGrad(float* dy, float* dx, in PoolGeometry g) => Run(new Job { Kind = Kind.AvgGrad, G = g, Dy = dy, Dx = dx });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgGradPlanes(float* dy, float* dx, in PoolGeometry g, int first, int end)
    {
        int hw = g.H * g.W;
        if (IsTwoByTwo(g) && Avx512F.IsSupported)
        {
            for (int plane = first; plane < end; plane++)
                AvgGrad2x2(dy + (long)plane * g.OutH * g.OutW, g.H, g.W, g.OutH, g.OutW, dx + (long)plane * hw);
            return;
        }
        new Span<float>(dx + (long)first * hw, checked((end - first) * hw)).Clear();
        int outH = g.OutH, outW = g.OutW;
        dy += (long)first * outH * outW;
        for (int plane = first; plane < end; plane++)
        {
            float* dst = dx + (long)plane * hw;
            for (int p = 0; p < outH; p++)
            {
                int h0 = p * g.StrideH - g.PadH;
                int rlo = Math.Max(0, -h0), rhi = Math.Min(g.KernelH, g.H - h0);
                for (int q = 0; q < outW; q++)
                {
                    int w0 = q * g.StrideW - g.PadW;
                    int slo = Math.Max(0, -w0), shi = Math.Min(g.KernelW, g.W - w0);
                    float v = *dy++ * (1f / g.AvgDivisor(p, q));
                    for (int r = rlo; r < rhi; r++)
                    {
                        float* row = dst + (h0 + r) * g.W + w0;
                        for (int s = slo; s < shi; s++) row[s] += v;
                    }
                }
            }
        }
    }

    /// <summary>2x2 stride 2 average: the same deinterleaving as <see cref="Max2x2"/>, four taps summed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avg2x2(float* src, int w, int outH, int outW, float* dst)
    {
        var even = Vector512<int>.Indices * 2;
        var odd = even + Vector512<int>.One;
        var lanes = Vector512<int>.Indices;
        var quarter = Vector512.Create(0.25f);
        for (int p = 0; p < outH; p++, dst += outW)
        {
            float* top = src + 2 * p * w, bottom = top + w;
            for (int q = 0; q < outW; q += 16)
            {
                int outputs = Math.Min(16, outW - q);
                var inMask0 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs)).AsSingle();
                var inMask1 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 16)).AsSingle();
                var t0 = Avx512F.MaskLoad(top + 2 * q, inMask0, default);
                var t1 = Avx512F.MaskLoad(top + 2 * q + 16, inMask1, default);
                var b0 = Avx512F.MaskLoad(bottom + 2 * q, inMask0, default);
                var b1 = Avx512F.MaskLoad(bottom + 2 * q + 16, inMask1, default);
                // Row-major tap order, as the general loop adds them.
                var sum = Avx512F.PermuteVar16x32x2(t0, even, t1) + Avx512F.PermuteVar16x32x2(t0, odd, t1)
                    + Avx512F.PermuteVar16x32x2(b0, even, b1) + Avx512F.PermuteVar16x32x2(b0, odd, b1);
                Avx512F.MaskStore(dst + q, Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle(), sum * quarter);
            }
        }
    }

    /// <summary>2x2 stride 2 average gradient: each window's gradient / 4 written to its four pixels, every pixel once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgGrad2x2(float* dy, int h, int w, int outH, int outW, float* dx)
    {
        var lanes = Vector512<int>.Indices;
        var first = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var second = first + Vector512.Create(8);
        var quarter = Vector512.Create(0.25f);
        for (int p = 0; p < outH; p++)
        {
            float* top = dx + 2 * p * w, bottom = top + w;
            for (int q = 0; q < outW; q += 16)
            {
                int outputs = Math.Min(16, outW - q);
                var v = Avx512F.MaskLoad(dy + p * outW + q, Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle(), default) * quarter;
                var lo = Avx512F.PermuteVar16x32x2(v, first, v);   // v0 v0 v1 v1 ... v7 v7
                var hi = Avx512F.PermuteVar16x32x2(v, second, v);  // v8 v8 ... v15 v15
                var mask0 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs)).AsSingle();
                var mask1 = Vector512.LessThan(lanes, Vector512.Create(2 * outputs - 16)).AsSingle();
                Avx512F.MaskStore(top + 2 * q, mask0, lo);
                Avx512F.MaskStore(bottom + 2 * q, mask0, lo);
                if (outputs > 8)
                {
                    Avx512F.MaskStore(top + 2 * q + 16, mask1, hi);
                    Avx512F.MaskStore(bottom + 2 * q + 16, mask1, hi);
                }
            }
            if (2 * outW < w) { top[w - 1] = 0; bottom[w - 1] = 0; } // an odd last column is in no window
        }
        if (2 * outH < h) new Span<float>(dx + 2 * outH * w, w).Clear(); // nor is an odd last row
    }
}
