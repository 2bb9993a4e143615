using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    public Tensor Add(Tensor other) => BinaryNode.Apply(BinaryOp.Add, this, other);
    public Tensor Sub(Tensor other) => BinaryNode.Apply(BinaryOp.Sub, this, other);
    public Tensor Mul(Tensor other) => BinaryNode.Apply(BinaryOp.Mul, this, other);
    public Tensor Div(Tensor other) => BinaryNode.Apply(BinaryOp.Div, this, other);
    public Tensor Pow(Tensor exponent) => BinaryNode.Apply(BinaryOp.Pow, this, exponent);
    /// <summary>
    /// Element-wise maximum, NaN when either is NaN. Gradients as PyTorch's: a tie splits the gradient in half
    /// between a and b, and at NaN both receive it whole.
    /// </summary>
    public static Tensor Maximum(Tensor a, Tensor b) => BinaryNode.Apply(BinaryOp.Maximum, a, b);
    /// <summary>Element-wise minimum; gradients at ties and NaN as <see cref="Maximum"/>.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => BinaryNode.Apply(BinaryOp.Minimum, a, b);

    // Comparisons give 1 or 0 and carry no gradient.
    public Tensor Eq(Tensor other) => BinaryNode.Apply(BinaryOp.Eq, this, other);
    public Tensor Ne(Tensor other) => BinaryNode.Apply(BinaryOp.Ne, this, other);
    public Tensor Lt(Tensor other) => BinaryNode.Apply(BinaryOp.Lt, this, other);
    public Tensor Le(Tensor other) => BinaryNode.Apply(BinaryOp.Le, this, other);
    public Tensor Gt(Tensor other) => BinaryNode.Apply(BinaryOp.Gt, this, other);
    public Tensor Ge(Tensor other) => BinaryNode.Apply(BinaryOp.Ge, this, other);
    public Tensor Eq(float v) => Eq(Scalar(v, Device));
    public Tensor Lt(float v) => Lt(Scalar(v, Device));
    public Tensor Le(float v) => Le(Scalar(v, Device));
    public Tensor Gt(float v) => Gt(Scalar(v, Device));
    public Tensor Ge(float v) => Ge(Scalar(v, Device));

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();

    // Scalar forms are one affine kernel: no scalar tensor, no broadcast.
    public static Tensor operator +(Tensor a, float s) => a.Affine(1, s);
    public static Tensor operator +(float s, Tensor a) => a.Affine(1, s);
    public static Tensor operator -(Tensor a, float s) => a.Affine(1, -s);
    public static Tensor operator -(float s, Tensor a) => a.Affine(-1, s);
    public static Tensor operator *(Tensor a, float s) => a.Affine(s, 0);
    public static Tensor operator *(float s, Tensor a) => a.Affine(s, 0);
    public static Tensor operator /(Tensor a, float s) => a.Affine(1 / s, 0);
    public static Tensor operator /(float s, Tensor a) => a.Pow(-1f).Affine(s, 0);

    /// <summary>cond != 0 ? a : b, broadcast together; gradients flow to a and b through the mask.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => WhereNode.Apply(condition, a, b);
}

/// <summary>Broadcasting binary primitives and their gradients (before the engine sums broadcast axes away).</summary>
internal sealed class BinaryNode : PooledNode<BinaryNode>
{
    private BinaryOp _op;
    private Tensor? _output;

    public BinaryNode() { }

    private protected override void ClearSaved() => _output = null;

    public override string Name => OpNames.BackwardOf(_op);

    public static Tensor Apply(BinaryOp op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: tensors are on different devices ({a.Device} and {b.Device}); move one with To().");
        Span<int> shape = stackalloc int[ShapeUtil.MaxStackRank];
        int rank = ShapeUtil.Broadcast(OpNames.Of(op), a.Shape, b.Shape, shape);
        var y = Tensor.Empty(shape[..rank], a.Device);
        a.Backend.Binary(op, a, b, y);
        Anomaly.Check(OpNames.Of(op), y);
        if (op < BinaryOp.Eq && Tensor.ShouldRecord(a, b))
        {
            var node = NodePool<BinaryNode>.Rent();
            node._op = op;
            node.SetInputs(a, b);
            if (op is BinaryOp.Div or BinaryOp.Pow) node._output = y;
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        return _op switch
        {
            BinaryOp.Add => Grads(g, g),
            BinaryOp.Sub => Grads(g, Needs(1) ? g.Neg() : null),
            BinaryOp.Mul => Grads(Needs(0) ? g * b : null, Needs(1) ? g * a : null),
            BinaryOp.Div => Grads(Needs(0) ? g / b : null, Needs(1) ? (g * _output! / b).Neg() : null),
            BinaryOp.Pow => Grads(Needs(0) ? g * b * a.Pow(b - 1f) : null, Needs(1) ? g * _output! * a.Log() : null),
            BinaryOp.Maximum => ExtremumGrads(g, a.Lt(b), a.Gt(b)),
            BinaryOp.Minimum => ExtremumGrads(g, a.Gt(b), a.Lt(b)),
            _ => throw new InvalidOperationException($"{_op} has no gradient rule."),
        };
    }

    /// <summary>
    /// PyTorch's maximum/minimum rule: a gets g except where it lost, b except where a won, each half at a tie.
    /// Written as 1 - lost - tie/2 so that at NaN (no comparison holds) both get g.
    /// </summary>
    private Tensor?[] ExtremumGrads(Tensor g, Tensor aLost, Tensor aWon)
    {
        var halfTie = Inputs[0].Eq(Inputs[1]) * 0.5f;
        return Grads(Needs(0) ? g * (1f - aLost - halfTie) : null, Needs(1) ? g * (1f - aWon - halfTie) : null);
    }
}

internal sealed class WhereNode : PooledNode<WhereNode>
{
    public WhereNode() { }

    public static Tensor Apply(Tensor cond, Tensor a, Tensor b)
    {
        if (cond.Device != a.Device || a.Device != b.Device)
            throw new ArgumentException($"Where: tensors are on different devices ({cond.Device}, {a.Device}, {b.Device}).");
        Span<int> ab = stackalloc int[ShapeUtil.MaxStackRank], shape = stackalloc int[ShapeUtil.MaxStackRank];
        int rank = ShapeUtil.Broadcast("Where", cond.Shape, a.Shape, ab);
        rank = ShapeUtil.Broadcast("Where", ab[..rank], b.Shape, shape);
        var y = Tensor.Empty(shape[..rank], a.Device);
        a.Backend.Where(cond, a, b, y);
        if (Tensor.ShouldRecord(a, b))
        {
            var node = NodePool<WhereNode>.Rent();
            node.SetInputs(cond, a, b);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var zero = Tensor.Scalar(0f, g.Device);
        var cond = Inputs[0];
        return Grads(null, Needs(1) ? Tensor.Where(cond, g, zero) : null, Needs(2) ? Tensor.Where(cond, zero, g) : null);
    }
}
