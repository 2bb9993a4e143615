using System.Numerics.Tensors;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void LayerNorm(in StorageView x, in StorageView y, in StorageView rstd, int rows, int n, float eps)
    {
        ReadOnlySpan<float> s = x.Span;
        Span<float> d = y.Span, r = rstd.Span;
        for (int row = 0; row < rows; row++)
        {
            var src = s.Slice(row * n, n);
            var dst = d.Slice(row * n, n);
            // Centred on the row's first element before summing (x - x0 is exact for nearby values), then on the mean,
            // then squared: neither the mean nor the variance loses the spread to a large common offset.
            float shift = src[0];
            TensorPrimitives.Subtract(src, shift, dst);
            TensorPrimitives.Subtract(dst, TensorPrimitives.Sum(dst) / n, dst);
            float variance = TensorPrimitives.SumOfSquares(dst) / n;
            float inv = 1f / MathF.Sqrt(variance + eps);
            TensorPrimitives.Multiply(dst, inv, dst);
            r[row] = inv;
        }
    }

    public void LayerNormGrad(in StorageView y, in StorageView rstd, in StorageView dy, in StorageView dx, int rows, int n)
    {
        ReadOnlySpan<float> ys = y.Span, g = dy.Span, r = rstd.Span;
        Span<float> d = dx.Span;
        for (int row = 0; row < rows; row++)
        {
            var yr = ys.Slice(row * n, n);
            var gr = g.Slice(row * n, n);
            var dr = d.Slice(row * n, n);
            float meanG = TensorPrimitives.Sum(gr) / n;
            float meanGy = TensorPrimitives.Dot(gr, yr) / n;
            // dr = rstd (g - meanG - y meanGy), as two vector passes.
            TensorPrimitives.MultiplyAdd(yr, -meanGy, gr, dr);
            TensorPrimitives.Subtract(dr, meanG, dr);
            TensorPrimitives.Multiply(dr, r[row], dr);
        }
    }

    public bool FusesBatchNorm => true;

    public unsafe void BatchNormTrain(in StorageView x, in StorageView weight, in StorageView bias, in StorageView y, in StorageView mean, in StorageView invStd,
        in StorageView runningMean, in StorageView runningVar, int n, int channels, int spatial, float momentum, float eps)
    {
        fixed (float* px = x.Span, pw = Host(weight), pb = Host(bias), py = y.Span, pm = mean.Span, pr = invStd.Span,
            prm = Host(runningMean), prv = Host(runningVar))
            Cpu.BatchNormKernels.Train(px, pw, pb, py, pm, pr, prm, prv, n, channels, spatial, momentum, eps);
    }

    public unsafe void BatchNormEval(in StorageView x, in StorageView runningMean, in StorageView runningVar, in StorageView weight, in StorageView bias,
        in StorageView y, int n, int channels, int spatial, float eps)
    {
        fixed (float* px = x.Span, prm = runningMean.Span, prv = runningVar.Span, pw = Host(weight), pb = Host(bias), py = y.Span)
            Cpu.BatchNormKernels.Eval(px, prm, prv, pw, pb, py, n, channels, spatial, eps);
    }

    public unsafe void BatchNormGrad(in StorageView x, in StorageView dy, in StorageView mean, in StorageView invStd, in StorageView weight,
        in StorageView dx, in StorageView dWeight, in StorageView dBias, int n, int channels, int spatial)
    {
        fixed (float* px = x.Span, pdy = dy.Span, pm = mean.Span, pr = invStd.Span, pw = Host(weight),
            pdx = Host(dx), pdw = Host(dWeight), pdb = Host(dBias))
            Cpu.BatchNormKernels.Grad(px, pdy, pm, pr, pw, pdx, pdw, pdb, n, channels, spatial);
    }

    /// <summary>An optional operand's elements; empty (a null pointer once fixed) when it was not given.</summary>
    private static Span<float> Host(in StorageView v) => v.IsNone ? default : v.Span;
}
