using System.Globalization;
using System.Text;
using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>One step of a trace's replay: a kernel call, a fused chain of them, or a host action.</summary>
internal abstract class TraceEntry
{
    public abstract void Run();

    /// <summary>One line for <see cref="TracedStep.Describe"/>.</summary>
    public abstract string Describe();

    /// <summary>Whether <paramref name="other"/> does the same work (kernel, shapes, scalars; not the buffers); else the first difference.</summary>
    public abstract bool SameWork(TraceEntry other, out string difference);
}

/// <summary>What a kernel call saw of one tensor: a <see cref="StorageView"/> kept as plain fields (a view is stack-only).</summary>
internal readonly struct Operand
{
    public Operand(in StorageView v)
    {
        Storage = v.Storage;
        Offset = v.Offset;
        Numel = v.Numel;
        Shape = v.IsNone ? [] : v.Shape.ToArray();
    }

    public Operand(Storage storage, int offset, int[] shape)
    {
        Storage = storage;
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
        Shape = shape;
    }

    /// <summary>The buffer; null for an absent optional operand.</summary>
    public readonly Storage? Storage;
    public readonly int Offset, Numel;
    public readonly int[] Shape;

    public bool IsNone => Storage is null;

    public StorageView View => Storage is null ? default : new StorageView(Storage, Offset, Numel, Shape);

    public string Format() => IsNone ? "none" : ShapeUtil.Format(Shape);
}

/// <summary>The <see cref="IBackend"/> methods a trace records, named as the methods are (the coverage test matches them up).</summary>
internal enum KernelKind
{
    Upload, Copy, Fill, Unary, UnaryGrad, Binary, Where, Axpy, Reduce, Softmax, SoftmaxGrad, MatMul, Permute, CopyBlocks,
    IndexSelect, IndexAdd, Gather, ScatterAdd, AdamStep, SgdStep, RmsPropStep, SumOfSquares, LayerNorm, LayerNormGrad,
    Conv2d, Conv2dGradInput, Conv2dGradWeight, ChannelSum, MaxPool2d, MaxPool2dGrad, MaxPool2dGather, AvgPool2d, AvgPool2dGrad,
    ReluMaxPool2d, ReluMaxPool2dGrad, Conv2dReluMaxPool2d, Conv2dReluMaxPool2dGradWeight, Conv2dReluMaxPool2dGradInput,
    LstmCell, LstmCellGrad, GruCell, GruCellGrad, BatchNormTrain, BatchNormEval, BatchNormGrad,
}

/// <summary>
/// One recorded kernel call: the backend, the method, its operands and its scalar arguments. <see cref="Run"/> makes
/// the same call again (same buffers, same arguments): no shape checks, no allocation, no autograd bookkeeping.
/// </summary>
internal sealed class KernelEntry(IBackend backend, KernelKind kind, Operand[] views) : TraceEntry
{
    public readonly IBackend Backend = backend;
    public readonly KernelKind Kind = kind;
    public readonly Operand[] Views = views;
    /// <summary>Float arguments, in the method's order.</summary>
    public float[] F = [];
    /// <summary>Integer arguments (enums and flags as integers, strides, sizes, a permutation), in the method's order.</summary>
    public long[] I = [];
    public ConvGeometry Conv;
    public PoolGeometry Pool;
    public AdamArgs Adam;
    /// <summary>An upload's values, copied when recorded: host data become constants of the trace.</summary>
    public float[]? Data;

    private StorageView V(int i) => Views[i].View;
    private int N(int i) => (int)I[i];
    private bool B(int i) => I[i] != 0;

    public override void Run()
    {
        var b = Backend;
        switch (Kind)
        {
            case KernelKind.Upload: b.Upload(Data, V(0)); break;
            case KernelKind.Copy: b.Copy(V(0), V(1)); break;
            case KernelKind.Fill: b.Fill(V(0), F[0]); break;
            case KernelKind.Unary: b.Unary((UnaryOp)I[0], V(0), V(1), F[0], F[1]); break;
            case KernelKind.UnaryGrad: b.UnaryGrad((UnaryOp)I[0], V(0), V(1), V(2), V(3), F[0], F[1]); break;
            case KernelKind.Binary: b.Binary((BinaryOp)I[0], V(0), V(1), V(2)); break;
            case KernelKind.Where: b.Where(V(0), V(1), V(2), V(3)); break;
            case KernelKind.Axpy: b.Axpy(F[0], V(0), V(1)); break;
            case KernelKind.Reduce: b.Reduce((ReduceOp)I[0], V(0), N(1), N(2), N(3), V(1)); break;
            case KernelKind.Softmax: b.Softmax(V(0), V(1), N(0), N(1), N(2), B(3)); break;
            case KernelKind.SoftmaxGrad: b.SoftmaxGrad(V(0), V(1), V(2), N(0), N(1), N(2), B(3)); break;
            case KernelKind.MatMul: b.MatMul(V(0), B(0), I[1], V(1), B(2), I[3], V(2), N(4), N(5), N(6), N(7), F[0]); break;
            case KernelKind.Permute: PermuteAgain(b); break;
            case KernelKind.CopyBlocks: b.CopyBlocks(V(0), N(0), N(1), V(1), N(2), N(3), N(4), N(5), B(6)); break;
            case KernelKind.IndexSelect: b.IndexSelect(V(0), V(1), V(2), N(0), N(1), N(2)); break;
            case KernelKind.IndexAdd: b.IndexAdd(V(0), V(1), V(2), N(0), N(1), N(2)); break;
            case KernelKind.Gather: b.Gather(V(0), V(1), V(2), N(0), N(1)); break;
            case KernelKind.ScatterAdd: b.ScatterAdd(V(0), V(1), V(2), N(0), N(1)); break;
            case KernelKind.AdamStep: b.AdamStep(V(0), V(1), V(2), V(3), V(4), Adam); break;
            case KernelKind.SgdStep: b.SgdStep(V(0), V(1), V(2), F[0], F[1], F[2], B(0), F[3]); break;
            case KernelKind.RmsPropStep: b.RmsPropStep(V(0), V(1), V(2), V(3), V(4), F[0], F[1], F[2], F[3], F[4]); break;
            case KernelKind.SumOfSquares: b.SumOfSquares(V(0), V(1)); break;
            case KernelKind.LayerNorm: b.LayerNorm(V(0), V(1), V(2), N(0), N(1), F[0]); break;
            case KernelKind.LayerNormGrad: b.LayerNormGrad(V(0), V(1), V(2), V(3), N(0), N(1)); break;
            case KernelKind.BatchNormTrain: b.BatchNormTrain(V(0), V(1), V(2), V(3), V(4), V(5), V(6), V(7), N(0), N(1), N(2), F[0], F[1]); break;
            case KernelKind.BatchNormEval: b.BatchNormEval(V(0), V(1), V(2), V(3), V(4), V(5), N(0), N(1), N(2), F[0]); break;
            case KernelKind.BatchNormGrad: b.BatchNormGrad(V(0), V(1), V(2), V(3), V(4), V(5), V(6), V(7), N(0), N(1), N(2)); break;
            case KernelKind.Conv2d: b.Conv2d(V(0), V(1), V(2), V(3), Conv); break;
            case KernelKind.Conv2dGradInput: b.Conv2dGradInput(V(0), V(1), V(2), Conv); break;
            case KernelKind.Conv2dGradWeight: b.Conv2dGradWeight(V(0), V(1), V(2), Conv); break;
            case KernelKind.ChannelSum: b.ChannelSum(V(0), V(1), N(0), N(1), N(2)); break;
            case KernelKind.MaxPool2d: b.MaxPool2d(V(0), V(1), V(2), Pool); break;
            case KernelKind.MaxPool2dGrad: b.MaxPool2dGrad(V(0), V(1), V(2), Pool); break;
            case KernelKind.MaxPool2dGather: b.MaxPool2dGather(V(0), V(1), V(2), Pool); break;
            case KernelKind.ReluMaxPool2d: b.ReluMaxPool2d(V(0), V(1), V(2), Pool); break;
            case KernelKind.ReluMaxPool2dGrad: b.ReluMaxPool2dGrad(V(0), V(1), V(2), V(3), Pool); break;
            case KernelKind.Conv2dReluMaxPool2d: b.Conv2dReluMaxPool2d(V(0), V(1), V(2), V(3), V(4), Conv, Pool); break;
            case KernelKind.Conv2dReluMaxPool2dGradWeight: b.Conv2dReluMaxPool2dGradWeight(V(0), V(1), V(2), V(3), V(4), V(5), Conv, Pool); break;
            case KernelKind.Conv2dReluMaxPool2dGradInput: b.Conv2dReluMaxPool2dGradInput(V(0), V(1), V(2), V(3), V(4), Conv, Pool); break;
            case KernelKind.AvgPool2d: b.AvgPool2d(V(0), V(1), Pool); break;
            case KernelKind.AvgPool2dGrad: b.AvgPool2dGrad(V(0), V(1), Pool); break;
            case KernelKind.LstmCell: b.LstmCell(V(0), V(1), V(2), V(3), N(0), N(1)); break;
            case KernelKind.LstmCellGrad: b.LstmCellGrad(V(0), V(1), V(2), V(3), V(4), V(5), V(6), N(0), N(1)); break;
            case KernelKind.GruCell: b.GruCell(V(0), V(1), V(2), V(3), N(0), N(1)); break;
            case KernelKind.GruCellGrad: b.GruCellGrad(V(0), V(1), V(2), V(3), V(4), V(5), V(6), N(0), N(1)); break;
            default: throw new InvalidOperationException($"Trace: no replay for kernel {Kind}.");
        }
    }

    // The permutation is kept as longs; a replay narrows it on the stack, so it allocates nothing.
    private void PermuteAgain(IBackend b)
    {
        Span<int> perm = stackalloc int[I.Length];
        for (int i = 0; i < perm.Length; i++) perm[i] = (int)I[i];
        b.Permute(V(0), perm, V(1));
    }

    public override string Describe()
    {
        var sb = new StringBuilder(Kind.ToString());
        if (Kind == KernelKind.Unary || Kind == KernelKind.UnaryGrad) sb.Append(' ').Append(OpNames.Of((UnaryOp)I[0]));
        else if (Kind == KernelKind.Binary) sb.Append(' ').Append(OpNames.Of((BinaryOp)I[0]));
        else if (Kind == KernelKind.Reduce) sb.Append(' ').Append(OpNames.Of((ReduceOp)I[0]));
        sb.Append(' ').Append(string.Join(", ", Views.Select(v => v.Format())));
        if (F.Length > 0) sb.Append(" f=[").Append(string.Join(", ", F.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))).Append(']');
        if (Kind is KernelKind.Conv2d or KernelKind.Conv2dGradInput or KernelKind.Conv2dGradWeight or KernelKind.Conv2dReluMaxPool2d or KernelKind.Conv2dReluMaxPool2dGradWeight
            or KernelKind.Conv2dReluMaxPool2dGradInput)
            sb.Append(' ').Append(Conv);
        if (Kind is >= KernelKind.MaxPool2d and <= KernelKind.Conv2dReluMaxPool2dGradInput) sb.Append(' ').Append(Pool);
        if (Kind == KernelKind.AdamStep) sb.Append(' ').Append(Adam);
        return sb.ToString();
    }

    public override bool SameWork(TraceEntry other, out string difference)
    {
        difference = "";
        if (other is not KernelEntry o || o.Kind != Kind) { difference = "a different call"; return false; }
        if (o.Views.Length != Views.Length) { difference = "a different number of operands"; return false; }
        for (int i = 0; i < Views.Length; i++)
            if (!Views[i].Shape.AsSpan().SequenceEqual(o.Views[i].Shape) || Views[i].IsNone != o.Views[i].IsNone)
            {
                difference = $"operand {i} has shape {o.Views[i].Format()}, recorded {Views[i].Format()}";
                return false;
            }
        if (!F.AsSpan().SequenceEqual(o.F) || !I.AsSpan().SequenceEqual(o.I) || Conv != o.Conv || Pool != o.Pool || Adam != o.Adam)
        {
            difference = "different scalar arguments";
            return false;
        }
        if (Data is not null && !Data.AsSpan().SequenceEqual(o.Data)) { difference = "different uploaded host values (a trace keeps them as constants)"; return false; }
        return true;
    }
}

/// <summary>Host code run at every call of the trace, in its place among the kernels (an optimizer's update, a random draw).</summary>
internal sealed class HostEntry(string label, Action action) : TraceEntry
{
    public readonly string Label = label;
    private readonly Action _action = action;

    public override void Run() => _action();

    public override string Describe() => "host: " + Label;

    public override bool SameWork(TraceEntry other, out string difference)
    {
        bool same = other is HostEntry h && h.Label == Label;
        difference = same ? "" : "a different call";
        return same;
    }
}
