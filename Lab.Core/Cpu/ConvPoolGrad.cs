using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// The input and weight gradients of conv → ReLU → 2x2 stride-2 max pool straight from the pooled gradient (AVX-512).
/// The gradient reaching the convolution's output z is zero except at each window's argmax where the pooled output is
/// positive: at most one pixel in four (MnistCnn's second block: 25 of 121 per plane). The dense products
/// dW = dz colsᵀ and cols = Wᵀ dz spend four fifths of their multiply-adds on those zeros, so here each nonzero
/// gradient g at output pixel (k, i, p, q) is used once:
/// dW[k, c, r, s] += g x[i, c, p + r, q + s] and dx[i, c, p + r, q + s] += g W[k, c, r, s].
/// Both read the other operand channels-last (x as N x H x W x C, W as K x R x S x C, padded with zeros, channels
/// rounded up to 16), so a nonzero's contribution is one contiguous vector of 16 channels per tap, nine taps summed in
/// registers at a time. dW is split over output channels and dx over samples, so every sum runs in one fixed order
/// whatever the thread count (the values equal the dense products' to rounding, not bit for bit).
/// </summary>
internal static unsafe class ConvPoolGrad
{
    /// <summary>Taps summed in registers at once (a 3x3 kernel in one pass).</summary>
    private const int TapBlock = 9;

    /// <summary>Sparse multiply-adds from which the work is split over threads.</summary>
    internal static long MinMacsForThreads { get; set; } = 1L << 18;

    /// <summary>Every convolution without groups or dilation followed by a 2x2 stride-2 pool, on AVX-512.</summary>
    public static bool Applies(in ConvGeometry g, in PoolGeometry pool) =>
        Avx512F.IsSupported && Pooling.IsTwoByTwo(pool) && g.Groups == 1 && g.DilationH == 1 && g.DilationW == 1
        && pool.N == g.N && pool.C == g.K && pool.H == g.OutH && pool.W == g.OutW && pool.OutH > 0 && pool.OutW > 0
        && g.R * g.S <= 1024 && (long)g.N * PaddedH(g) * PaddedW(g) * Lanes(g.C) < int.MaxValue && (long)g.K * g.R * g.S * Lanes(g.C) < int.MaxValue;

    /// <summary>
    /// Whether the sparse kernels beat the dense products for this layer: the useful share of their vector work (channels
    /// of their 16-lane blocks, taps of their 9-tap blocks) at least 3/4. Measured with `conv-quick poolGrad` (one thread,
    /// dense ÷ sparse): MnistCnn's second and third layers and a 16-channel strided one (share 1) 3.0x, 2.5x, 1.9x; 8
    /// channels (1/2) 1.06x; 4 channels (1/4) 0.68x; a 1x1 kernel (1/9) 0.40x; one channel (1/16) 0.32x.
    /// </summary>
    public static bool Pays(in ConvGeometry g)
    {
        int taps = g.R * g.S;
        return 4.0 * g.C * taps >= 3.0 * Lanes(g.C) * TapBlock * ((taps + TapBlock - 1) / TapBlock);
    }

    private struct Job
    {
        public ConvGeometry G;
        public int PoolH, PoolW;
        public float* X, W, Dy, Y, Indices, Dx, Dw, Db;
        public float* Packed;   // x channels-last (weight gradient) or W (input gradient)
        public int* TopLeft;    // per window: the plane index of its top-left pixel (rounded up to 16 windows)
        public int* FieldBase;  // per window: the channels-last offset of its top-left pixel's receptive field
    }

    /// <summary>dw (K x C x R x S) and db (K, may be null) for pooled gradient dy, from the pooled output y and its argmax indices.</summary>
    public static void GradWeight(float* x, float* dy, float* y, float* indices, float* dw, float* db, in ConvGeometry g, in PoolGeometry pool)
    {
        var job = new Job { G = g, PoolH = pool.OutH, PoolW = pool.OutW, X = x, Dy = dy, Y = y, Indices = indices, Dw = dw, Db = db };
        job.Packed = Buffers.Shared((long)g.N * PaddedH(g) * PaddedW(g) * Lanes(g.C));
        Windows(ref job);
        int threads = Threads(g, pool);
        WorkerPool.Run(g.N, threads, &ChannelsLastSample, &job);
        WorkerPool.Run(g.K, threads, &WeightGradChannel, &job);
    }

    /// <summary>dx (N x C x H x W, overwritten) for pooled gradient dy, from the pooled output y and its argmax indices.</summary>
    public static void GradInput(float* dy, float* y, float* indices, float* w, float* dx, in ConvGeometry g, in PoolGeometry pool)
    {
        int taps = g.R * g.S, lanes = Lanes(g.C);
        float* packed = Buffers.Shared((long)g.K * taps * lanes);
        // W[k, c, t] -> packed[k, t, c], zero past C.
        if (lanes != g.C) new Span<float>(packed, g.K * taps * lanes).Clear();
        for (int k = 0; k < g.K; k++)
            GemmTranspose.Run(w + (long)k * g.C * taps, taps, g.C, taps, packed + (long)k * taps * lanes, lanes);
        var job = new Job { G = g, PoolH = pool.OutH, PoolW = pool.OutW, Dy = dy, Y = y, Indices = indices, Dx = dx, Packed = packed };
        Windows(ref job);
        WorkerPool.Run(g.N, Threads(g, pool), &InputGradSample, &job);
    }

    private static int Threads(in ConvGeometry g, in PoolGeometry pool)
    {
        long macs = (long)g.N * g.K * pool.OutH * pool.OutW * g.C * g.R * g.S;
        return macs >= MinMacsForThreads && g.N >= 2 ? Gemm.MaxThreads : 1;
    }

    // Room for the input and every receptive field: uneven padding may add a row (column) or leave the last ones unread.
    private static int PaddedH(in ConvGeometry g) => g.H + 2 * g.PadH + Math.Max(g.ExtraPadH, 0);
    private static int PaddedW(in ConvGeometry g) => g.W + 2 * g.PadW + Math.Max(g.ExtraPadW, 0);
    private static int Lanes(int c) => (c + 15) / 16 * 16;

    /// <summary>The per-window tables, in the caller's buffer (the workers only read them).</summary>
    private static void Windows(ref Job job)
    {
        var g = job.G;
        int pooled = job.PoolH * job.PoolW, rounded = Lanes(pooled), wp = PaddedW(g), lanes = Lanes(g.C);
        int* tables = Buffers.Tables(2 * rounded);
        job.TopLeft = tables;
        job.FieldBase = tables + rounded;
        for (int o = 0; o < rounded; o++)
        {
            int p = Math.Min(o, pooled - 1) / job.PoolW, q = Math.Min(o, pooled - 1) % job.PoolW;
            job.TopLeft[o] = 2 * (p * g.OutW + q);
            job.FieldBase[o] = (2 * p * g.StrideH * wp + 2 * q * g.StrideW) * lanes;
        }
    }

    /// <summary>Sample i of x into the shared channels-last copy: zero padding around it and past its channels.</summary>
    private static void ChannelsLastSample(void* state, int i, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.G;
        int hp = PaddedH(g), wp = PaddedW(g), lanes = Lanes(g.C), hw = g.H * g.W;
        float* dst = job.Packed + (long)i * hp * wp * lanes;
        float* src = job.X + (long)i * g.C * hw;
        if (lanes == g.C && hp == g.H && wp == g.W)
        {
            GemmTranspose.Run(src, hw, g.C, hw, dst, lanes); // no padding: the whole plane is one transpose
            return;
        }
        new Span<float>(dst, hp * wp * lanes).Clear();
        for (int h = 0; h < g.H; h++)
            GemmTranspose.Run(src + h * g.W, hw, g.C, g.W, dst + ((long)(h + g.PadH) * wp + g.PadW) * lanes, lanes);
    }

    /// <summary>
    /// For 16 windows: where each passes its gradient, as its argmax pixel's row (0 or 1 within the window, as a 0 or
    /// -1 lane) and column (0 or 1), and whether ReLU lets it through (a pooled value above zero, or NaN, as ReLU's
    /// gradient passes it; an index of -1, a window without a tap, passes nothing). Vectorised: a branch on the
    /// sign of each output would be mispredicted half of the time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Argmax(Vector512<float> y, Vector512<float> index, Vector512<int> topLeft, int outW,
        out Vector512<int> lowerRow, out Vector512<int> column)
    {
        var d = Avx512F.ConvertToVector512Int32WithTruncation(index) - topLeft; // 0, 1, outW or outW + 1
        var w = Vector512.Create(outW);
        lowerRow = Vector512.GreaterThanOrEqual(d, w);
        column = d - (lowerRow & w);
        var inWindow = Vector512.LessThanOrEqual(d.AsUInt32(), Vector512.Create((uint)outW + 1)).AsInt32();
        return ~Vector512.LessThanOrEqual(y, default).AsInt32() & inWindow;
    }

    /// <summary>Appends the lanes of v that mask selects at list + count, in order (the list has 16 floats of room past its end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Append<T>(T* list, int count, Vector512<int> mask, Vector512<T> v) where T : unmanaged
    {
        Vector512.Store(Avx512F.Compress(default, mask.AsSingle(), v.AsSingle()).As<float, T>(), list + count);
        return count + System.Numerics.BitOperations.PopCount(mask.ExtractMostSignificantBits());
    }

    /// <summary>dW[k] and db[k]: channel k's nonzero gradients listed once, then each tap block and 16 channels summed over the list.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradChannel(void* state, int k, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.G;
        int hp = PaddedH(g), wp = PaddedW(g), lanes = Lanes(g.C), taps = g.R * g.S;
        int pooled = job.PoolH * job.PoolW, outW = g.OutW;
        float* gs = Buffers.Gradients(g.N * pooled + 16);
        int* offsets = Buffers.Offsets(g.N * pooled + 16);
        var rowStep = Vector512.Create(g.StrideH * wp * lanes);
        var columnStep = Vector512.Create(g.StrideW * lanes);
        int count = 0;
        for (int i = 0; i < g.N; i++)
        {
            long plane = ((long)i * g.K + k) * pooled;
            float* dy = job.Dy + plane, y = job.Y + plane, idx = job.Indices + plane;
            var sample = Vector512.Create(i * hp * wp * lanes);
            for (int o = 0; o < pooled; o += 16)
            {
                var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(pooled - o));
                var gv = Avx512F.MaskLoad(dy + o, live.AsSingle(), default);
                var passes = Argmax(Avx512F.MaskLoad(y + o, live.AsSingle(), default), Avx512F.MaskLoad(idx + o, live.AsSingle(), default),
                    Vector512.Load(job.TopLeft + o), outW, out var lowerRow, out var column) & live;
                var field = Vector512.Load(job.FieldBase + o) + sample + (lowerRow & rowStep) + column * columnStep;
                Append(offsets, count, passes, field);
                count = Append(gs, count, passes, gv);
            }
        }
        // The bias gradient in the same order: the listed gradients, each once.
        float bias = 0f;
        for (int e = 0; e < count; e++) bias += gs[e];
        if (job.Db is not null) job.Db[k] = bias;
        int* tapOffsets = stackalloc int[TapBlock];
        float* sums = stackalloc float[2 * TapBlock * 16];
        for (int t0 = 0; t0 < taps; t0 += TapBlock)
        {
            int block = Math.Min(TapBlock, taps - t0);
            for (int j = 0; j < TapBlock; j++)
            {
                int t = t0 + Math.Min(j, block - 1), r = t / g.S, s = t - r * g.S;
                tapOffsets[j] = (r * wp + s) * lanes;
            }
            for (int c0 = 0; c0 < g.C; c0 += 32)
            {
                // Sums for 32 channels (two blocks) in one pass over the list where there are that many.
                bool two = c0 + 16 < g.C;
                if (two) SumTaps2(gs, offsets, count, job.Packed + c0, tapOffsets, sums);
                else SumTaps(gs, offsets, count, job.Packed + c0, tapOffsets, sums);
                for (int c = c0; c < Math.Min(c0 + 32, g.C); c++)
                    for (int j = 0; j < block; j++)
                        job.Dw[((long)k * g.C + c) * taps + t0 + j] = sums[(c - c0 >= 16 ? TapBlock * 16 : 0) + j * 16 + (c - c0) % 16];
            }
        }
    }

    /// <summary>
    /// dx for sample i, window by window: the sample's pooled planes transposed so that a window's K outputs are
    /// contiguous, each of the window's four pixels gets the list of gradients that reach it (over output channels),
    /// their weighted sum of W's rows is made in registers and added onto the pixel's receptive field in a
    /// channels-last plane, which is then transposed into dx.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradSample(void* state, int i, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var g = job.G;
        int hp = PaddedH(g), wp = PaddedW(g), lanes = Lanes(g.C), taps = g.R * g.S;
        int pooled = job.PoolH * job.PoolW, outW = g.OutW, kLanes = Lanes(g.K);
        // [window, channel] copies of the sample's y, indices and dy; channels past K have y = 0, which passes nothing.
        float* windows = Buffers.Gradients(3L * pooled * kLanes);
        float* yT = windows, idxT = windows + pooled * kLanes, dyT = windows + 2 * pooled * kLanes;
        if (kLanes != g.K) new Span<float>(yT, pooled * kLanes).Clear();
        long sample = (long)i * g.K * pooled;
        GemmTranspose.Run(job.Y + sample, pooled, g.K, pooled, yT, kLanes);
        GemmTranspose.Run(job.Indices + sample, pooled, g.K, pooled, idxT, kLanes);
        GemmTranspose.Run(job.Dy + sample, pooled, g.K, pooled, dyT, kLanes);
        // Four lists (one per pixel of the window) of up to K gradients and their W row offsets.
        int listRoom = kLanes + 16;
        float* gs = Buffers.Plane(4L * listRoom + (long)hp * wp * lanes);
        int* offsets = Buffers.Offsets(4L * listRoom);
        float* field0 = gs + 4 * listRoom;
        new Span<float>(field0, hp * wp * lanes).Clear();
        int* tapOffsets = stackalloc int[TapBlock];
        float* sums = stackalloc float[2 * TapBlock * 16];
        int* counts = stackalloc int[4];
        // Where tap t of a pixel's field lies in the plane, worked out once (a division per tap per list cost a third of the time).
        int* fieldTaps = stackalloc int[taps];
        for (int t = 0; t < taps; t++) fieldTaps[t] = (t / g.S * wp + t % g.S) * lanes;
        var rowOffsets = Vector512<int>.Indices * Vector512.Create(taps * lanes);
        for (int o = 0; o < pooled; o++)
        {
            var topLeft = Vector512.Create(job.TopLeft[o]);
            counts[0] = counts[1] = counts[2] = counts[3] = 0;
            for (int k0 = 0; k0 < kLanes; k0 += 16)
            {
                long at = (long)o * kLanes + k0;
                var passes = Argmax(Vector512.Load(yT + at), Vector512.Load(idxT + at), topLeft, outW, out var lowerRow, out var column);
                var corner = (lowerRow & Vector512.Create(2)) + column;
                var gv = Vector512.Load(dyT + at);
                var row = rowOffsets + Vector512.Create(k0 * taps * lanes);
                for (int c = 0; c < 4; c++)
                {
                    var take = passes & Vector512.Equals(corner, Vector512.Create(c));
                    Append(offsets + c * listRoom, counts[c], take, row);
                    counts[c] = Append(gs + c * listRoom, counts[c], take, gv);
                }
            }
            int p = o / job.PoolW, q = o - p * job.PoolW;
            for (int c = 0; c < 4; c++)
            {
                int n = counts[c];
                if (n == 0) continue;
                float* field = field0 + ((long)(2 * p + (c >> 1)) * g.StrideH * wp + (2 * q + (c & 1)) * g.StrideW) * lanes;
                for (int t0 = 0; t0 < taps; t0 += TapBlock)
                {
                    int block = Math.Min(TapBlock, taps - t0);
                    for (int j = 0; j < TapBlock; j++) tapOffsets[j] = (t0 + Math.Min(j, block - 1)) * lanes;
                    for (int c0 = 0; c0 < g.C; c0 += 32)
                    {
                        bool two = c0 + 16 < g.C;
                        if (two) SumTaps2(gs + c * listRoom, offsets + c * listRoom, n, job.Packed + c0, tapOffsets, sums);
                        else SumTaps(gs + c * listRoom, offsets + c * listRoom, n, job.Packed + c0, tapOffsets, sums);
                        for (int j = 0; j < block; j++)
                        {
                            float* d = field + fieldTaps[t0 + j] + c0;
                            Vector512.Store(Vector512.Load(d) + Vector512.Load(sums + j * 16), d);
                            if (two) Vector512.Store(Vector512.Load(d + 16) + Vector512.Load(sums + (TapBlock + j) * 16), d + 16);
                        }
                    }
                }
            }
        }
        int hw = g.H * g.W;
        float* dx = job.Dx + (long)i * g.C * hw;
        if (lanes == g.C && hp == g.H && wp == g.W)
        {
            GemmTranspose.Run(field0, lanes, hw, g.C, dx, hw); // no padding: the whole plane is one transpose
            return;
        }
        for (int h = 0; h < g.H; h++)
            GemmTranspose.Run(field0 + ((long)(h + g.PadH) * wp + g.PadW) * lanes, lanes, g.W, g.C, dx + h * g.W, hw);
    }

    /// <summary>
    /// sums[j, 0..16) = Σ_e gs[e] · basis[offsets[e] + taps[j] + 0..16) for the nine taps j: each tap's 16 lanes in their
    /// own register, so a list entry costs nine loads and nine FMAs (a shorter block repeats its last tap, unused).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumTaps(float* gs, int* offsets, int count, float* basis, int* taps, float* sums)
    {
        nint t0 = taps[0], t1 = taps[1], t2 = taps[2], t3 = taps[3], t4 = taps[4], t5 = taps[5], t6 = taps[6], t7 = taps[7], t8 = taps[8];
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default;
        for (int e = 0; e < count; e++)
        {
            var v = Vector512.Create(gs[e]);
            float* b = basis + offsets[e];
            a0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t0), a0);
            a1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t1), a1);
            a2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t2), a2);
            a3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t3), a3);
            a4 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t4), a4);
            a5 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t5), a5);
            a6 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t6), a6);
            a7 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t7), a7);
            a8 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t8), a8);
        }
        Vector512.Store(a0, sums); Vector512.Store(a1, sums + 16); Vector512.Store(a2, sums + 32);
        Vector512.Store(a3, sums + 48); Vector512.Store(a4, sums + 64); Vector512.Store(a5, sums + 80);
        Vector512.Store(a6, sums + 96); Vector512.Store(a7, sums + 112); Vector512.Store(a8, sums + 128);
    }

    /// <summary>
    /// <see cref="SumTaps"/> for 32 channels, lanes 16..32 at sums + 9 x 16: eighteen accumulators, so a list entry's
    /// broadcast and offset serve twice the work and one pass over a short list replaces two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumTaps2(float* gs, int* offsets, int count, float* basis, int* taps, float* sums)
    {
        nint t0 = taps[0], t1 = taps[1], t2 = taps[2], t3 = taps[3], t4 = taps[4], t5 = taps[5], t6 = taps[6], t7 = taps[7], t8 = taps[8];
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default, b8 = default;
        for (int e = 0; e < count; e++)
        {
            var v = Vector512.Create(gs[e]);
            float* b = basis + offsets[e];
            a0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t0), a0); b0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t0 + 16), b0);
            a1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t1), a1); b1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t1 + 16), b1);
            a2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t2), a2); b2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t2 + 16), b2);
            a3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t3), a3); b3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t3 + 16), b3);
            a4 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t4), a4); b4 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t4 + 16), b4);
            a5 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t5), a5); b5 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t5 + 16), b5);
            a6 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t6), a6); b6 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t6 + 16), b6);
            a7 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t7), a7); b7 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t7 + 16), b7);
            a8 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t8), a8); b8 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(b + t8 + 16), b8);
        }
        Vector512.Store(a0, sums); Vector512.Store(a1, sums + 16); Vector512.Store(a2, sums + 32);
        Vector512.Store(a3, sums + 48); Vector512.Store(a4, sums + 64); Vector512.Store(a5, sums + 80);
        Vector512.Store(a6, sums + 96); Vector512.Store(a7, sums + 112); Vector512.Store(a8, sums + 128);
        float* h = sums + TapBlock * 16;
        Vector512.Store(b0, h); Vector512.Store(b1, h + 16); Vector512.Store(b2, h + 32);
        Vector512.Store(b3, h + 48); Vector512.Store(b4, h + 64); Vector512.Store(b5, h + 80);
        Vector512.Store(b6, h + 96); Vector512.Store(b7, h + 112); Vector512.Store(b8, h + 128);
    }

    /// <summary>Pinned, grown-on-demand workspaces: the shared channels-last operand (the caller's) and each thread's lists and plane.</summary>
    private static class Buffers
    {
        [ThreadStatic] private static float[]? s_shared, s_gradients, s_plane;
        [ThreadStatic] private static int[]? s_offsets, s_tables;

        public static float* Shared(long floats) => (float*)Aligned(ref s_shared, floats);
        public static float* Gradients(long floats) => (float*)Aligned(ref s_gradients, floats);
        public static float* Plane(long floats) => (float*)Aligned(ref s_plane, floats);
        public static int* Offsets(long ints) => (int*)Aligned(ref s_offsets, ints);
        public static int* Tables(long ints) => (int*)Aligned(ref s_tables, ints);

        private static void* Aligned<T>(ref T[]? buffer, long count) where T : unmanaged
        {
            long needed = count + 16;
            if (needed > Array.MaxLength) throw new OutOfMemoryException($"Convolution workspace of {count} elements is too large.");
            if (buffer is null || buffer.Length < needed) buffer = GC.AllocateUninitializedArray<T>((int)needed, pinned: true);
            nint address = (nint)Unsafe.AsPointer(ref buffer[0]);
            return (void*)((address + 63) & ~(nint)63);
        }
    }
}
