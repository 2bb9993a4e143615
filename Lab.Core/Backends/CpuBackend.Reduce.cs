using System.Numerics.Tensors;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void Reduce(ReduceOp op, in StorageView x, int outer, int n, int inner, in StorageView y)
    {
        ReadOnlySpan<float> s = x.Span;
        Span<float> d = y.Span;
        if (inner == 1)
        {
            // Each output reduces one contiguous run: vector kernels.
            for (int o = 0; o < outer; o++)
            {
                var run = s.Slice(o * n, n);
                d[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(run),
                    ReduceOp.Max => TensorPrimitives.Max(run),
                    ReduceOp.Min => TensorPrimitives.Min(run),
                    ReduceOp.ArgMax => TensorPrimitives.IndexOfMax(run),
                    ReduceOp.ArgMin => TensorPrimitives.IndexOfMin(run),
                    _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown reduction."),
                };
            }
            return;
        }
        Span<float> best = op is ReduceOp.ArgMax or ReduceOp.ArgMin ? new float[inner] : default;
        for (int o = 0; o < outer; o++)
        {
            var dst = d.Slice(o * inner, inner);
            var first = s.Slice(o * n * inner, inner);
            first.CopyTo(dst);
            if (op is ReduceOp.ArgMax or ReduceOp.ArgMin)
            {
                first.CopyTo(best);
                dst.Clear();
                bool max = op == ReduceOp.ArgMax;
                for (int j = 1; j < n; j++)
                {
                    var row = s.Slice((o * n + j) * inner, inner);
                    for (int i = 0; i < inner; i++)
                        if (max ? row[i] > best[i] : row[i] < best[i]) { best[i] = row[i]; dst[i] = j; }
                }
                continue;
            }
            for (int j = 1; j < n; j++)
            {
                var row = s.Slice((o * n + j) * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum: TensorPrimitives.Add(dst, row, dst); break;
                    case ReduceOp.Max: TensorPrimitives.Max(dst, row, dst); break;
                    case ReduceOp.Min: TensorPrimitives.Min(dst, row, dst); break;
                    default: throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown reduction.");
                }
            }
        }
    }

    public void Softmax(in StorageView x, in StorageView y, int outer, int n, int inner, bool log)
    {
        ReadOnlySpan<float> s = x.Span;
        Span<float> d = y.Span;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var src = s.Slice(o * n, n);
                var dst = d.Slice(o * n, n);
                float max = TensorPrimitives.Max(src);
                TensorPrimitives.Subtract(src, max, dst);
                if (log)
                {
                    // log-sum-exp with the max subtracted: exp never overflows, the log never sees 0.
                    float sum = 0;
                    for (int i = 0; i < n; i++) sum += MathF.Exp(dst[i]);
                    TensorPrimitives.Subtract(dst, MathF.Log(sum), dst);
                }
                else
                {
                    TensorPrimitives.Exp(dst, dst);
                    TensorPrimitives.Multiply(dst, 1f / TensorPrimitives.Sum(dst), dst);
                }
            }
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * n * inner + i;
                float max = float.NegativeInfinity;
                for (int j = 0; j < n; j++) max = MathF.Max(max, s[b + j * inner]);
                float sum = 0;
                for (int j = 0; j < n; j++) sum += MathF.Exp(s[b + j * inner] - max);
                float logSum = MathF.Log(sum);
                for (int j = 0; j < n; j++)
                {
                    float z = s[b + j * inner] - max;
                    d[b + j * inner] = log ? z - logSum : MathF.Exp(z) / sum;
                }
            }
    }

    public void SoftmaxGrad(in StorageView y, in StorageView dy, in StorageView dx, int outer, int n, int inner, bool log)
    {
        ReadOnlySpan<float> ys = y.Span, g = dy.Span;
        Span<float> d = dx.Span;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * n * inner + i;
                float dot = 0;
                if (log) for (int j = 0; j < n; j++) dot += g[b + j * inner];
                else for (int j = 0; j < n; j++) dot += g[b + j * inner] * ys[b + j * inner];
                for (int j = 0; j < n; j++)
                {
                    int k = b + j * inner;
                    d[k] = log ? g[k] - MathF.Exp(ys[k]) * dot : ys[k] * (g[k] - dot);
                }
            }
    }
}
