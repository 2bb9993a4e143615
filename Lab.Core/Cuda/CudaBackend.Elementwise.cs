using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed partial class CudaBackend
{
    public void Unary(UnaryOp op, in StorageView x, in StorageView y, float alpha = 0, float beta = 0)
    {
        Enter();
        if (op == UnaryOp.Pow) LaunchN(Kernels.UnaryPow, y.Numel, Ptr(x), Ptr(y), y.Numel, alpha);
        else LaunchN(Kernels.Unary, y.Numel, (int)op, Ptr(x), Ptr(y), y.Numel, alpha, beta);
    }

    public void UnaryGrad(UnaryOp op, in StorageView x, in StorageView y, in StorageView dy, in StorageView dx, float alpha = 0, float beta = 0)
    {
        Enter();
        if (op == UnaryOp.Pow) LaunchN(Kernels.UnaryGradPow, dx.Numel, Ptr(x), Ptr(dy), Ptr(dx), dx.Numel, alpha);
        else LaunchN(Kernels.UnaryGrad, dx.Numel, (int)op, Ptr(x), Ptr(y), Ptr(dy), Ptr(dx), dx.Numel, alpha, beta);
    }

    public void Binary(BinaryOp op, in StorageView a, in StorageView b, in StorageView y)
    {
        Enter();
        if (y.Numel == 0) return;
        Span<int> size = stackalloc int[MaxDims], sa = stackalloc int[MaxDims], sb = stackalloc int[MaxDims];
        int dims = Coalesce(y.Shape, a.Shape, b.Shape, default, size, sa, sb, default);
        if (op == BinaryOp.Pow) LaunchN(Kernels.BinaryPow, y.Numel, Ptr(a), Ptr(b), Ptr(y), y.Numel, dims, new Arg(size), new Arg(sa), new Arg(sb));
        else LaunchN(Kernels.Binary, y.Numel, (int)op, Ptr(a), Ptr(b), Ptr(y), y.Numel, dims, new Arg(size), new Arg(sa), new Arg(sb));
    }

    public void Where(in StorageView cond, in StorageView a, in StorageView b, in StorageView y)
    {
        Enter();
        if (y.Numel == 0) return;
        Span<int> size = stackalloc int[MaxDims], sc = stackalloc int[MaxDims], sa = stackalloc int[MaxDims], sb = stackalloc int[MaxDims];
        int dims = Coalesce(y.Shape, cond.Shape, a.Shape, b.Shape, size, sc, sa, sb);
        LaunchN(Kernels.Where, y.Numel, Ptr(cond), Ptr(a), Ptr(b), Ptr(y), y.Numel, dims, new Arg(size), new Arg(sc), new Arg(sa), new Arg(sb));
    }

    public void Axpy(float alpha, in StorageView x, in StorageView y)
    {
        Enter();
        LaunchN(Kernels.Axpy, y.Numel, alpha, Ptr(x), Ptr(y), y.Numel);
    }

    private const int MaxDims = 8;

    /// <summary>
    /// The broadcast of two or three operands to <paramref name="outShape"/> as few dimensions as possible,
    /// innermost first: sizes, and each operand's element stride (0 where broadcast). Adjacent dimensions
    /// merge when every operand steps through them contiguously, so [N,C,H,W] + [1,C,1,1] needs two.
    /// </summary>
    internal static int Coalesce(ReadOnlySpan<int> outShape, ReadOnlySpan<int> s0, ReadOnlySpan<int> s1, ReadOnlySpan<int> s2,
        Span<int> size, Span<int> st0, Span<int> st1, Span<int> st2)
    {
        int rank = outShape.Length, operands = st2.IsEmpty ? 2 : 3;
        Span<int> full0 = stackalloc int[rank], full1 = stackalloc int[rank], full2 = stackalloc int[rank];
        StridesFor(s0, outShape, full0);
        StridesFor(s1, outShape, full1);
        if (operands == 3) StridesFor(s2, outShape, full2);
        size.Clear(); st0.Clear(); st1.Clear();
        if (operands == 3) st2.Clear();
        int dims = 0;
        for (int i = rank - 1; i >= 0; i--)
        {
            int n = outShape[i];
            if (n == 1) continue;
            if (dims > 0 && full0[i] == st0[dims - 1] * size[dims - 1] && full1[i] == st1[dims - 1] * size[dims - 1]
                && (operands == 2 || full2[i] == st2[dims - 1] * size[dims - 1]))
            {
                size[dims - 1] *= n;
                continue;
            }
            if (dims == MaxDims)
                throw new NotSupportedException($"CUDA broadcast of shape {ShapeUtil.Format(outShape)} needs more than {MaxDims} dimensions after merging.");
            size[dims] = n;
            st0[dims] = full0[i];
            st1[dims] = full1[i];
            if (operands == 3) st2[dims] = full2[i];
            dims++;
        }
        if (dims == 0) { size[0] = 1; dims = 1; }
        return dims;
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
}
