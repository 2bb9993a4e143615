using Lab.Core.Backends;

namespace Lab.Core.Cpu;

/// <summary>
/// The layout changes that turn a convolution into GEMMs. For a chunk of b samples, the column matrix has one row
/// per (c, r, s) and one column per (sample, p, q): cols[(c R + r) S + s, i OH OW + p OW + q] =
/// x[i, c, p stride - pad + r, q stride - pad + s], zero where that falls in the padding. Then
/// y = W cols (forward), cols = Wᵀ dy followed by col2im (input gradient), dW = dy colsᵀ (weight gradient).
/// Rows are written a kernel offset (c, r, s) at a time, so for stride 1 every inner step is one contiguous
/// run of an input row.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>The output columns q whose input column q stride - pad + s lies inside the image: [lo, hi).</summary>
    private static (int Lo, int Hi) ValidColumns(in ConvGeometry g, int outW, int s)
    {
        int first = g.PadW - s; // q stride must reach this for the input column to be >= 0
        int lo = first <= 0 ? 0 : (first + g.StrideW - 1) / g.StrideW;
        int last = g.W - 1 + g.PadW - s; // q stride must not pass this
        int hi = last < 0 ? 0 : Math.Min(outW, last / g.StrideW + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>Fills the first b OH OW columns of cols (leading dimension ld) from b samples starting at x.</summary>
    public static void Fill(float* x, int b, in ConvGeometry g, float* cols, int ld)
    {
        int oh = g.OutH, ow = g.OutW, ohw = oh * ow, hw = g.H * g.W;
        for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++)
                {
                    float* row = cols + (long)((c * g.R + r) * g.S + s) * ld;
                    var (lo, hi) = ValidColumns(g, ow, s);
                    int shift = s - g.PadW; // input column of output column 0
                    for (int i = 0; i < b; i++)
                    {
                        float* plane = x + (long)(i * g.C + c) * hw;
                        float* dst = row + i * ohw;
                        for (int p = 0; p < oh; p++, dst += ow)
                        {
                            int h = p * g.StrideH - g.PadH + r;
                            if ((uint)h >= (uint)g.H)
                            {
                                RowOps.Zero(dst, ow);
                                continue;
                            }
                            float* src = plane + h * g.W + shift;
                            if (lo > 0) RowOps.Zero(dst, lo);
                            if (g.StrideW == 1) RowOps.Copy(src + lo, dst + lo, hi - lo);
                            else
                                for (int q = lo; q < hi; q++) dst[q] = src[q * g.StrideW];
                            if (hi < ow) RowOps.Zero(dst + hi, ow - hi);
                        }
                    }
                }
    }

    /// <summary>
    /// The adjoint of <see cref="Fill"/>: adds every column entry back onto the input pixel it was copied from.
    /// dx (b samples) must be zeroed, or hold what the sum should start from.
    /// </summary>
    public static void Accumulate(float* cols, int ld, int b, in ConvGeometry g, float* dx)
    {
        int oh = g.OutH, ow = g.OutW, ohw = oh * ow, hw = g.H * g.W;
        for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++)
                {
                    float* row = cols + (long)((c * g.R + r) * g.S + s) * ld;
                    var (lo, hi) = ValidColumns(g, ow, s);
                    if (hi <= lo) continue;
                    int shift = s - g.PadW;
                    for (int i = 0; i < b; i++)
                    {
                        float* plane = dx + (long)(i * g.C + c) * hw;
                        float* src = row + i * ohw;
                        for (int p = 0; p < oh; p++, src += ow)
                        {
                            int h = p * g.StrideH - g.PadH + r;
                            if ((uint)h >= (uint)g.H) continue;
                            float* dst = plane + h * g.W + shift;
                            if (g.StrideW == 1) RowOps.Add(src + lo, dst + lo, hi - lo);
                            else
                                for (int q = lo; q < hi; q++) dst[q * g.StrideW] += src[q];
                        }
                    }
                }
    }

    /// <summary>
    /// Gathers b samples' rows x len planes (sample i at src + i * sampleStride) side by side into a
    /// rows x (b len) matrix: dst[r, i len + t] = src[i sampleStride + r len + t].
    /// </summary>
    public static void Gather(float* src, long sampleStride, int rows, int len, int b, float* dst)
    {
        int ld = b * len;
        for (int i = 0; i < b; i++)
        {
            float* s = src + i * sampleStride;
            for (int r = 0; r < rows; r++) RowOps.Copy(s + r * len, dst + (long)r * ld + i * len, len);
        }
    }

    /// <summary>The inverse of <see cref="Gather"/>, adding bias[r] (when given) to every element of row r.</summary>
    public static void Scatter(float* src, int rows, int len, int b, float* bias, float* dst, long sampleStride)
    {
        int ld = b * len;
        for (int i = 0; i < b; i++)
        {
            float* d = dst + i * sampleStride;
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * ld + i * len;
                if (bias is null) RowOps.Copy(s, d + r * len, len);
                else RowOps.AddConstant(s, bias[r], d + r * len, len);
            }
        }
    }
}
