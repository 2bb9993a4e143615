using System.Numerics.Tensors;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void Binary(BinaryOp op, in StorageView a, in StorageView b, in StorageView y)
    {
        ReadOnlySpan<float> sa = a.Span, sb = b.Span;
        Span<float> d = y.Span;
        if (a.Numel == y.Numel && b.Numel == y.Numel) { Run(op, sa, 1, sb, 1, d); return; }
        if (a.Numel == y.Numel && b.Numel == 1) { Run(op, sa, 1, sb, 0, d); return; }
        if (a.Numel == 1 && b.Numel == y.Numel) { Run(op, sa, 0, sb, 1, d); return; }
        Broadcast(op, a, b, y);
    }

    public void Where(in StorageView cond, in StorageView a, in StorageView b, in StorageView y)
    {
        // An odometer walk over y's rows (all dimensions but the last) with each operand's broadcast strides, and each
        // row of the last dimension as one run: a whole-row copy or fill where the condition is the same along the row
        // (a [B, 1] mask over [B, H] states, the recurrent layers' case), a vector select where it varies. No temporaries.
        int rank = y.Rank;
        ReadOnlySpan<float> c = cond.Span, va = a.Span, vb = b.Span;
        Span<float> d = y.Span;
        if (rank == 0) { d[0] = c[0] != 0 ? va[0] : vb[0]; return; }
        Span<int> sc = stackalloc int[rank], sa = stackalloc int[rank], sb = stackalloc int[rank], counter = stackalloc int[rank];
        StridesFor(cond.Shape, y.Shape, sc);
        StridesFor(a.Shape, y.Shape, sa);
        StridesFor(b.Shape, y.Shape, sb);
        int n = y.Shape[rank - 1];
        if (n == 0) return;
        int rc = sc[rank - 1], ra = sa[rank - 1], rb = sb[rank - 1];   // each 0 (broadcast) or 1 (contiguous)
        int offC = 0, offA = 0, offB = 0;
        for (int row = 0; row < d.Length; row += n)
        {
            WhereRow(c.Slice(offC, rc == 0 ? 1 : n), rc, va.Slice(offA, ra == 0 ? 1 : n), ra, vb.Slice(offB, rb == 0 ? 1 : n), rb, d.Slice(row, n));
            for (int k = rank - 2; k >= 0; k--)
            {
                offC += sc[k]; offA += sa[k]; offB += sb[k];
                if (++counter[k] < y.Shape[k]) break;
                counter[k] = 0;
                offC -= sc[k] * y.Shape[k]; offA -= sa[k] * y.Shape[k]; offB -= sb[k] * y.Shape[k];
            }
        }
    }

    /// <summary>d[i] = c[i rc] != 0 ? a[i ra] : b[i rb] for one row, each stride 0 or 1 (NaN conditions pick a, as != 0 holds).</summary>
    private static void WhereRow(ReadOnlySpan<float> c, int rc, ReadOnlySpan<float> a, int ra, ReadOnlySpan<float> b, int rb, Span<float> d)
    {
        if (rc == 0)
        {
            bool pickA = c[0] != 0;
            ReadOnlySpan<float> src = pickA ? a : b;
            if ((pickA ? ra : rb) == 1) src.CopyTo(d);
            else d.Fill(src[0]);
            return;
        }
        for (int i = 0; i < d.Length; i++) d[i] = c[i] != 0 ? a[i * ra] : b[i * rb];
    }

    /// <summary>
    /// The general broadcast: adjacent dimensions that are contiguous (or broadcast) in both operands are
    /// merged, so [N,C,H,W] + [1,C,1,1] becomes N*C runs of H*W with a scalar, each a vector kernel call.
    /// </summary>
    private static void Broadcast(BinaryOp op, in StorageView a, in StorageView b, in StorageView y)
    {
        int rank = y.Rank;
        Span<int> size = stackalloc int[rank], strideA = stackalloc int[rank], strideB = stackalloc int[rank];
        StridesFor(a.Shape, y.Shape, strideA);
        StridesFor(b.Shape, y.Shape, strideB);
        // Coalesce from the innermost dimension outwards.
        int dims = 0;
        Span<int> cs = stackalloc int[rank], ca = stackalloc int[rank], cb = stackalloc int[rank];
        for (int i = rank - 1; i >= 0; i--)
        {
            int n = y.Shape[i];
            if (n == 1) continue;
            if (dims > 0 && strideA[i] == ca[dims - 1] * cs[dims - 1] && strideB[i] == cb[dims - 1] * cs[dims - 1])
                cs[dims - 1] *= n;
            else { cs[dims] = n; ca[dims] = strideA[i]; cb[dims] = strideB[i]; dims++; }
        }
        ReadOnlySpan<float> sa = a.Span, sb = b.Span;
        Span<float> d = y.Span;
        if (dims == 0) { Run(op, sa, 0, sb, 0, d[..1]); return; }
        // cs[0] is the innermost run; walk the outer ones with an odometer.
        int inner = cs[0], ia = ca[0], ib = cb[0];
        if (inner <= Cpu.BroadcastRuns.MaxRun && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && ShortRuns(op, sa, sb, d, inner, ia, ib, cs, ca, cb, dims)) return;
        Span<int> counter = stackalloc int[dims];
        int offA = 0, offB = 0;
        for (int o = 0; o < d.Length; o += inner)
        {
            Run(op, ia == 0 ? sa.Slice(offA, 1) : sa.Slice(offA, inner), ia,
                    ib == 0 ? sb.Slice(offB, 1) : sb.Slice(offB, inner), ib, d.Slice(o, inner));
            for (int k = 1; k < dims; k++)
            {
                offA += ca[k]; offB += cb[k];
                if (++counter[k] < cs[k]) break;
                counter[k] = 0;
                offA -= ca[k] * cs[k]; offB -= cb[k] * cs[k];
            }
        }
    }

    /// <summary>The broadcast's runs as inline vector loops (<see cref="Cpu.BroadcastRuns"/>); false for ops it does not cover.</summary>
    private static unsafe bool ShortRuns(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d, int inner, int ia, int ib,
        ReadOnlySpan<int> cs, ReadOnlySpan<int> ca, ReadOnlySpan<int> cb, int dims)
    {
        fixed (float* pa = a, pb = b, pd = d)
        {
            switch (op)
            {
                case BinaryOp.Add: Cpu.BroadcastRuns.Run<Cpu.BroadcastRuns.Add>(pa, pb, pd, d.Length, inner, ia, ib, cs, ca, cb, dims); return true;
                case BinaryOp.Sub: Cpu.BroadcastRuns.Run<Cpu.BroadcastRuns.Subtract>(pa, pb, pd, d.Length, inner, ia, ib, cs, ca, cb, dims); return true;
                case BinaryOp.Mul: Cpu.BroadcastRuns.Run<Cpu.BroadcastRuns.Multiply>(pa, pb, pd, d.Length, inner, ia, ib, cs, ca, cb, dims); return true;
                case BinaryOp.Div: Cpu.BroadcastRuns.Run<Cpu.BroadcastRuns.Divide>(pa, pb, pd, d.Length, inner, ia, ib, cs, ca, cb, dims); return true;
                default: return false;
            }
        }
    }

    /// <summary>Row-major strides of <paramref name="shape"/> aligned to <paramref name="outShape"/>, 0 where broadcast.</summary>
    private static void StridesFor(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape, Span<int> strides)
    {
        int lead = outShape.Length - shape.Length, stride = 1;
        for (int i = outShape.Length - 1; i >= 0; i--)
        {
            int dim = i < lead ? 1 : shape[i - lead];
            strides[i] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
    }

    /// <summary>d[i] = a[i*sa] op b[i*sb] with each stride 0 (a scalar) or 1.</summary>
    private static void Run(BinaryOp op, ReadOnlySpan<float> a, int sa, ReadOnlySpan<float> b, int sb, Span<float> d)
    {
        if (sa == 1 && sb == 1)
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(a, b, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(a, b, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(a, b, d); return;
            }
        }
        else if (sa == 1 && sb == 0)
        {
            float s = b[0];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, s, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, s, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, s, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(a, s, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(a, s, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(a, s, d); return;
            }
        }
        else if (sa == 0 && sb == 1)
        {
            float s = a[0];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(b, s, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(s, b, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(b, s, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(s, b, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(b, s, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(b, s, d); return;
            }
        }
        // Both scalars (an expand of a rank-0 gradient): one value, filled.
        if (sa == 0 && sb == 0) d.Fill(Scalar(op, a[0], b[0]));
        else for (int i = 0; i < d.Length; i++) d[i] = Scalar(op, a[i * sa], b[i * sb]);
    }

    private static float Scalar(BinaryOp op, float x, float y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Pow => MathF.Pow(x, y),
        BinaryOp.Maximum => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : MathF.Max(x, y),
        BinaryOp.Minimum => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : MathF.Min(x, y),
        BinaryOp.Eq => x == y ? 1f : 0f,
        BinaryOp.Ne => x != y ? 1f : 0f,
        BinaryOp.Lt => x < y ? 1f : 0f,
        BinaryOp.Le => x <= y ? 1f : 0f,
        BinaryOp.Gt => x > y ? 1f : 0f,
        BinaryOp.Ge => x >= y ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown binary op."),
    };
}
