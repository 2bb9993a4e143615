namespace Lab.Core.Tests.Ops;

/// <summary>
/// A straightforward double-precision reference tensor: the oracle the op registry compares against.
/// Every function is written from the definition, with no attempt at speed.
/// </summary>
public sealed class R
{
    public R(double[] data, int[] shape) { Data = data; Shape = shape; }
    public double[] Data { get; }
    public int[] Shape { get; }
    public int Numel => Data.Length;

    public static R Of(Tensor t) => new(Array.ConvertAll(t.ToArray(), v => (double)v), t.ShapeArray());
    public R With(double[] data) => new(data, Shape);

    public static int Count(int[] shape) { int n = 1; foreach (var d in shape) n *= d; return n; }

    public static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int st = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = st; st *= shape[i]; }
        return s;
    }

    public static int[] Unravel(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat /= shape[i]; }
        return idx;
    }

    public double At(int[] idx)
    {
        int f = 0;
        for (int i = 0; i < Shape.Length; i++) f = f * Shape[i] + idx[i];
        return Data[f];
    }

    public R Map(Func<double, double> f) => With(Data.Select(f).ToArray());

    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i < r - a.Length ? 1 : a[i - (r - a.Length)];
            int db = i < r - b.Length ? 1 : b[i - (r - b.Length)];
            s[i] = Math.Max(da, db);
        }
        return s;
    }

    /// <summary>The element of this tensor that broadcasting maps to output index idx.</summary>
    public double Broadcasted(int[] idx)
    {
        int lead = idx.Length - Shape.Length, f = 0;
        for (int i = 0; i < Shape.Length; i++) f = f * Shape[i] + (Shape[i] == 1 ? 0 : idx[lead + i]);
        return Data[f];
    }

    public static R Zip(R a, R b, Func<double, double, double> f)
    {
        var shape = BroadcastShape(a.Shape, b.Shape);
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++) { var idx = Unravel(i, shape); d[i] = f(a.Broadcasted(idx), b.Broadcasted(idx)); }
        return new R(d, shape);
    }

    public static R Where(R c, R a, R b)
    {
        var shape = BroadcastShape(BroadcastShape(c.Shape, a.Shape), b.Shape);
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++) { var idx = Unravel(i, shape); d[i] = c.Broadcasted(idx) != 0 ? a.Broadcasted(idx) : b.Broadcasted(idx); }
        return new R(d, shape);
    }

    public R Expand(int[] shape)
    {
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++) d[i] = Broadcasted(Unravel(i, shape));
        return new R(d, shape);
    }

    public R Reshape(int[] shape) => new(Data, shape);

    /// <summary>Reduces the given axes with f over the values of each output cell.</summary>
    public R Reduce(int[] axes, bool keep, Func<List<double>, double> f)
    {
        var ax = axes.Select(a => a < 0 ? a + Shape.Length : a).ToHashSet();
        var keepShape = Shape.Select((d, i) => ax.Contains(i) ? 1 : d).ToArray();
        var groups = new List<double>[Count(keepShape)];
        for (int i = 0; i < groups.Length; i++) groups[i] = [];
        for (int i = 0; i < Numel; i++)
        {
            var idx = Unravel(i, Shape);
            int f2 = 0;
            for (int k = 0; k < Shape.Length; k++) f2 = f2 * keepShape[k] + (ax.Contains(k) ? 0 : idx[k]);
            groups[f2].Add(Data[i]);
        }
        var outShape = keep ? keepShape : Shape.Where((_, i) => !ax.Contains(i)).ToArray();
        return new R(groups.Select(f).ToArray(), outShape);
    }

    public R Softmax(int axis, bool log)
    {
        int a = axis < 0 ? axis + Shape.Length : axis;
        var max = Reduce([a], true, g => g.Max());
        var shifted = Zip(this, max, (x, m) => x - m);
        var sum = shifted.Map(Math.Exp).Reduce([a], true, g => g.Sum());
        return log ? Zip(shifted, sum, (x, s) => x - Math.Log(s)) : Zip(shifted, sum, (x, s) => Math.Exp(x) / s);
    }

    public R Permute(int[] perm)
    {
        var shape = perm.Select(p => Shape[p]).ToArray();
        var d = new double[Numel];
        for (int i = 0; i < d.Length; i++)
        {
            var idx = Unravel(i, shape);
            var src = new int[Shape.Length];
            for (int k = 0; k < perm.Length; k++) src[perm[k]] = idx[k];
            d[i] = At(src);
        }
        return new R(d, shape);
    }

    public static R MatMul(R a, R b, bool ta, bool tb)
    {
        R T(R x) { var p = Enumerable.Range(0, x.Shape.Length).ToArray(); (p[^1], p[^2]) = (p[^2], p[^1]); return x.Permute(p); }
        if (ta) a = T(a);
        if (tb) b = T(b);
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        int batch = Math.Max(a.Shape.Length == 3 ? a.Shape[0] : 1, b.Shape.Length == 3 ? b.Shape[0] : 1);
        bool batched = a.Shape.Length == 3 || b.Shape.Length == 3;
        var d = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = a.Shape.Length == 3 ? a.Data[(bi * m + i) * k + p] : a.Data[i * k + p];
                        double bv = b.Shape.Length == 3 ? b.Data[(bi * k + p) * n + j] : b.Data[p * n + j];
                        s += av * bv;
                    }
                    d[(bi * m + i) * n + j] = s;
                }
        return new R(d, batched ? [batch, m, n] : [m, n]);
    }

    public static R Concat(R[] xs, int axis)
    {
        int a = axis < 0 ? axis + xs[0].Shape.Length : axis;
        var shape = (int[])xs[0].Shape.Clone();
        shape[a] = xs.Sum(x => x.Shape[a]);
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++)
        {
            var idx = Unravel(i, shape);
            int j = 0, pos = idx[a];
            while (pos >= xs[j].Shape[a]) { pos -= xs[j].Shape[a]; j++; }
            idx[a] = pos;
            d[i] = xs[j].At(idx);
        }
        return new R(d, shape);
    }

    public R Narrow(int axis, int start, int len)
    {
        var shape = (int[])Shape.Clone();
        shape[axis] = len;
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++) { var idx = Unravel(i, shape); idx[axis] += start; d[i] = At(idx); }
        return new R(d, shape);
    }

    public R IndexSelect(int axis, int[] index)
    {
        var shape = (int[])Shape.Clone();
        shape[axis] = index.Length;
        var d = new double[Count(shape)];
        for (int i = 0; i < d.Length; i++) { var idx = Unravel(i, shape); idx[axis] = index[idx[axis]]; d[i] = At(idx); }
        return new R(d, shape);
    }

    public R Gather(int[] index) => new(Enumerable.Range(0, Shape[0]).Select(r => Data[r * Shape[1] + index[r]]).ToArray(), [Shape[0]]);

    public static R Conv2d(R x, R w, R? bias, int stride, int pad) => Conv2d(x, w, bias, (stride, stride), (pad, pad, pad, pad));

    /// <summary>
    /// PyTorch's conv2d from its definition: out[n, o, p, q] = bias[o] + the sum over the group's input channels and
    /// kernel taps of x[n, c, p sh - top + i dh, q sw - left + j dw] w[o, c - group start, i, j], zero outside the
    /// input. Padding is given per side (top, left, bottom, right) so that "same" with an even kernel can be written.
    /// </summary>
    public static R Conv2d(R x, R w, R? bias, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) pad,
        (int H, int W)? dilation = null, int groups = 1)
    {
        var (dh, dw) = dilation ?? (1, 1);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], k = w.Shape[0], cg = w.Shape[1], r = w.Shape[2], s = w.Shape[3];
        int oh = (h + pad.Top + pad.Bottom - dh * (r - 1) - 1) / stride.H + 1, ow = (wd + pad.Left + pad.Right - dw * (s - 1) - 1) / stride.W + 1;
        int kg = k / groups;
        var d = new double[n * k * oh * ow];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < k; o++)
                for (int p = 0; p < oh; p++)
                    for (int q = 0; q < ow; q++)
                    {
                        double acc = bias?.Data[o] ?? 0;
                        for (int cj = 0; cj < cg; cj++)
                        {
                            int ci = o / kg * cg + cj;
                            for (int i = 0; i < r; i++)
                                for (int j = 0; j < s; j++)
                                {
                                    int hh = p * stride.H - pad.Top + i * dh, ww = q * stride.W - pad.Left + j * dw;
                                    if (hh < 0 || hh >= h || ww < 0 || ww >= wd) continue;
                                    acc += x.Data[((b * c + ci) * h + hh) * wd + ww] * w.Data[((o * cg + cj) * r + i) * s + j];
                                }
                        }
                        d[((b * k + o) * oh + p) * ow + q] = acc;
                    }
        return new R(d, [n, k, oh, ow]);
    }

    public static R ConvTranspose2d(R x, R w, R? bias, int stride, int pad, int outputPadding = 0)
        => ConvTranspose2d(x, w, bias, (stride, stride), (pad, pad), (outputPadding, outputPadding));

    /// <summary>
    /// PyTorch's conv_transpose2d by its scatter definition: each input pixel x[n, ci, p, q] adds w[ci, co, i, j] times
    /// itself at output (p sh - ph + i dh, q sw - pw + j dw) of every output channel co of its group.
    /// </summary>
    public static R ConvTranspose2d(R x, R w, R? bias, (int H, int W) stride, (int H, int W) pad, (int H, int W) outputPadding,
        (int H, int W)? dilation = null, int groups = 1)
    {
        var (dh, dw) = dilation ?? (1, 1);
        int n = x.Shape[0], cin = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], cog = w.Shape[1], r = w.Shape[2], s = w.Shape[3];
        int cout = cog * groups, cig = cin / groups;
        int oh = (h - 1) * stride.H - 2 * pad.H + dh * (r - 1) + 1 + outputPadding.H;
        int ow = (wd - 1) * stride.W - 2 * pad.W + dw * (s - 1) + 1 + outputPadding.W;
        var d = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++)
            for (int ci = 0; ci < cin; ci++)
                for (int p = 0; p < h; p++)
                    for (int q = 0; q < wd; q++)
                    {
                        double v = x.Data[((b * cin + ci) * h + p) * wd + q];
                        for (int coj = 0; coj < cog; coj++)
                        {
                            int co = ci / cig * cog + coj;
                            for (int i = 0; i < r; i++)
                                for (int j = 0; j < s; j++)
                                {
                                    int hh = p * stride.H - pad.H + i * dh, ww = q * stride.W - pad.W + j * dw;
                                    if (hh < 0 || hh >= oh || ww < 0 || ww >= ow) continue;
                                    d[((b * cout + co) * oh + hh) * ow + ww] += v * w.Data[((ci * cog + coj) * r + i) * s + j];
                                }
                        }
                    }
        if (bias is not null)
            for (int i = 0; i < d.Length; i++) d[i] += bias.Data[(i / (oh * ow)) % cout];
        return new R(d, [n, cout, oh, ow]);
    }

    public static R Pool(R x, int kernel, int stride, int pad, bool max) => Pool(x, (kernel, kernel), (stride, stride), (pad, pad), max);

    /// <summary>PyTorch's pooling output size: the count of window starts, rounded up in ceil mode unless the last starts in the right padding.</summary>
    public static int PoolOutSize(int size, int kernel, int stride, int pad, int dilation, bool ceil)
    {
        double windows = (size + 2.0 * pad - dilation * (kernel - 1) - 1) / stride;
        int o = (int)(ceil ? Math.Ceiling(windows) : Math.Floor(windows)) + 1;
        return ceil && (o - 1) * stride >= size + pad ? o - 1 : o;
    }

    /// <summary>
    /// Max or average pooling tap by tap, with PyTorch's options: an average divides by the taps inside the padded
    /// input (count_include_pad) or inside the input; a max that sees no tap is -inf.
    /// </summary>
    public static R Pool(R x, (int H, int W) kernel, (int H, int W) stride, (int H, int W) pad, bool max,
        (int H, int W)? dilation = null, bool ceil = false, bool countIncludePad = true)
    {
        var dil = dilation ?? (1, 1);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int oh = PoolOutSize(h, kernel.H, stride.H, pad.H, dil.H, ceil), ow = PoolOutSize(wd, kernel.W, stride.W, pad.W, dil.W, ceil);
        var d = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++)
            for (int p = 0; p < oh; p++)
                for (int q = 0; q < ow; q++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    int inside = 0, inPadded = 0;
                    for (int i = 0; i < kernel.H; i++)
                        for (int j = 0; j < kernel.W; j++)
                        {
                            int hh = p * stride.H - pad.H + i * dil.H, ww = q * stride.W - pad.W + j * dil.W;
                            if (hh < h + pad.H && ww < wd + pad.W) inPadded++;
                            if (hh < 0 || hh >= h || ww < 0 || ww >= wd) continue;
                            inside++;
                            double v = x.Data[(pl * h + hh) * wd + ww];
                            acc = max ? Math.Max(acc, v) : acc + v;
                        }
                    d[(pl * oh + p) * ow + q] = max ? acc : acc / (countIncludePad ? inPadded : inside);
                }
        return new R(d, [n, c, oh, ow]);
    }

    /// <summary>
    /// Batch normalisation over every axis but 1: the batch's mean and biased variance in training, the given running
    /// statistics otherwise; then the optional per-channel scale and shift.
    /// </summary>
    public static R BatchNorm(R x, R? runningMean, R? runningVar, R? weight, R? bias, bool training, double eps = 1e-5)
    {
        int channels = x.Shape[1], inner = Count(x.Shape[2..]), outer = x.Shape[0];
        var d = new double[x.Numel];
        for (int c = 0; c < channels; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < outer; n++)
                for (int i = 0; i < inner; i++) values.Add(x.Data[(n * channels + c) * inner + i]);
            double mean = training ? values.Average() : runningMean!.Data[c];
            double variance = training ? values.Average(v => (v - mean) * (v - mean)) : runningVar!.Data[c];
            double scale = (weight?.Data[c] ?? 1) / Math.Sqrt(variance + eps), shift = bias?.Data[c] ?? 0;
            for (int n = 0; n < outer; n++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (n * channels + c) * inner + i;
                    d[at] = (x.Data[at] - mean) * scale + shift;
                }
        }
        return new R(d, x.Shape);
    }
}
