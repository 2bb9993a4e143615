using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// The layout changes that turn a convolution into GEMMs. For a chunk of b samples, the column matrix has one row
/// per (c, r, s) and one column per (sample, p, q): cols[(c R + r) S + s, i OH OW + p OW + q] =
/// x[i, c, p stride - pad + r dilation, q stride - pad + s dilation], zero where that falls in the padding. Then
/// y = W cols (forward), cols = Wᵀ dy followed by col2im (input gradient), dW = dy colsᵀ (weight gradient); with
/// groups, group g's rows are the consecutive block of its channels and each product is one GEMM per group.
/// Rows are written a kernel offset (c, r, s) at a time, so for stride 1 every inner step is one contiguous
/// run of an input row.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// The outputs o in [0, count) whose input o stride - pad + offset lies in [0, size): [lo, hi). For rows,
    /// offset is the kernel row r times the dilation; for columns, the kernel column s times the dilation.
    /// </summary>
    private static (int Lo, int Hi) ValidRange(int size, int pad, int offset, int stride, int count)
    {
        int first = pad - offset;        // o stride must reach this for the input to be >= 0
        int last = size - 1 + pad - offset; // o stride must not pass this
        int lo = first <= 0 ? 0 : (first + stride - 1) / stride;
        int hi = last < 0 ? 0 : Math.Min(count, last / stride + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>Fills the first b OH OW columns of cols (leading dimension ld) from b samples starting at x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(float* x, int b, in ConvGeometry geometry, float* cols, int ld)
    {
        var g = geometry; // a local: stores through float* cannot alias it, so its fields stay in registers
        int oh = g.OutH, ow = g.OutW, ohw = oh * ow, hw = g.H * g.W;
        // Block = sample (x moves a whole C H W, the columns one OH OW); row = output row (x moves stride rows).
        var steps = new RowOps.Steps(g.C * hw, g.StrideH * g.W, ohw, ow);
        for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
            {
                var (pLo, pHi) = ValidRange(g.H, g.PadH, r * g.DilationH, g.StrideH, oh);
                for (int s = 0; s < g.S; s++)
                {
                    float* row = cols + (long)((c * g.R + r) * g.S + s) * ld;
                    var (qLo, qHi) = ValidRange(g.W, g.PadW, s * g.DilationW, g.StrideW, ow);
                    if (pLo > 0 || pHi < oh || qLo > 0 || qHi < ow) new Span<float>(row, b * ohw).Clear();
                    if (pHi <= pLo || qHi <= qLo) continue;
                    // The input pixel of output (pLo, qLo) in channel c of sample 0.
                    float* src = x + (long)c * hw + (pLo * g.StrideH - g.PadH + r * g.DilationH) * g.W + qLo * g.StrideW - g.PadW + s * g.DilationW;
                    RowOps.Copy(src, row + pLo * ow + qLo, steps, b, pHi - pLo, qHi - qLo, g.StrideW);
                }
            }
    }

    /// <summary>
    /// The adjoint of <see cref="Fill"/>: adds every column entry back onto the input pixel it was copied from.
    /// dx (b samples) must be zeroed, or hold what the sum should start from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* cols, int ld, int b, in ConvGeometry geometry, float* dx)
    {
        var g = geometry;
        int oh = g.OutH, ow = g.OutW, ohw = oh * ow, hw = g.H * g.W;
        var steps = new RowOps.Steps(ohw, ow, g.C * hw, g.StrideH * g.W);
        for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
            {
                var (pLo, pHi) = ValidRange(g.H, g.PadH, r * g.DilationH, g.StrideH, oh);
                if (pHi <= pLo) continue;
                for (int s = 0; s < g.S; s++)
                {
                    var (qLo, qHi) = ValidRange(g.W, g.PadW, s * g.DilationW, g.StrideW, ow);
                    if (qHi <= qLo) continue;
                    float* src = cols + (long)((c * g.R + r) * g.S + s) * ld + pLo * ow + qLo;
                    float* dst = dx + (long)c * hw + (pLo * g.StrideH - g.PadH + r * g.DilationH) * g.W + qLo * g.StrideW - g.PadW + s * g.DilationW;
                    RowOps.Add(src, dst, steps, b, pHi - pLo, qHi - qLo, g.StrideW);
                }
            }
    }

    /// <summary>
    /// The adjoint of <see cref="Fill"/> for stride 1 on AVX-512, overwriting dx: each input row (16 pixels at a time)
    /// sums its R S contributions in a register, one masked load per kernel offset, the shift by s done by the load
    /// address, and is stored once. Adding column rows into dx one kernel offset at a time instead (as
    /// <see cref="Accumulate"/> does) reloads what the previous offset just stored, one pixel over, and every such
    /// load stalls on the store it overlaps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumStride1(float* cols, int ld, int b, in ConvGeometry geometry, float* dx)
    {
        var g = geometry;
        int oh = g.OutH, ow = g.OutW, ohw = oh * ow;
        var lanes = Vector512<int>.Indices;
        for (int i = 0; i < b; i++)
            for (int c = 0; c < g.C; c++)
            {
                float* plane = cols + (long)c * g.R * g.S * ld + i * ohw;
                for (int h = 0; h < g.H; h++)
                {
                    float* dst = dx + ((long)(i * g.C + c) * g.H + h) * g.W;
                    for (int w0 = 0; w0 < g.W; w0 += 16)
                    {
                        int width = Math.Min(16, g.W - w0);
                        var acc = Vector512<float>.Zero;
                        for (int r = 0; r < g.R; r++)
                        {
                            int p = h + g.PadH - r * g.DilationH;
                            if ((uint)p >= (uint)oh) continue;
                            float* row = plane + (long)r * g.S * ld + p * ow;
                            for (int s = 0; s < g.S; s++, row += ld)
                            {
                                // Lane l takes column q = w0 + l + pad - s dilation, where 0 <= q < OW.
                                int q0 = w0 + g.PadW - s * g.DilationW;
                                var take = Vector512.GreaterThanOrEqual(lanes, Vector512.Create(-q0))
                                    & Vector512.LessThan(lanes, Vector512.Create(Math.Min(width, ow - q0)));
                                acc += Avx512F.MaskLoad(row + q0, take.AsSingle(), default);
                            }
                        }
                        Avx512F.MaskStore(dst + w0, Vector512.LessThan(lanes, Vector512.Create(width)).AsSingle(), acc);
                    }
                }
            }
    }

    /// <summary>
    /// Gathers b samples' rows x len planes (sample i at src + i * sampleStride) side by side into a
    /// rows x (b len) matrix: dst[r, i len + t] = src[i sampleStride + r len + t].
    /// </summary>
    public static void Gather(float* src, long sampleStride, int rows, int len, int b, float* dst) =>
        RowOps.Copy(src, dst, new RowOps.Steps((nint)sampleStride, len, len, b * len), b, rows, len);

    /// <summary>The inverse of <see cref="Gather"/>, adding bias[r] (when given) to every element of row r.</summary>
    public static void Scatter(float* src, int rows, int len, int b, float* bias, float* dst, long sampleStride) =>
        RowOps.CopyAddBias(src, dst, new RowOps.Steps(len, b * len, (nint)sampleStride, len), b, rows, len, bias);
}
