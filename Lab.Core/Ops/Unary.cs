using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    public Tensor Neg() => UnaryNode.Apply(UnaryOp.Neg, this);
    public Tensor Exp() => UnaryNode.Apply(UnaryOp.Exp, this);
    public Tensor Log() => UnaryNode.Apply(UnaryOp.Log, this);
    public Tensor Sqrt() => UnaryNode.Apply(UnaryOp.Sqrt, this);
    /// <summary>|x|; its gradient at 0 (and at NaN) is 0, as PyTorch's grad · sign(x).</summary>
    public Tensor Abs() => UnaryNode.Apply(UnaryOp.Abs, this);
    /// <summary>-1, 0 or 1; keeps NaN (NumPy's convention; PyTorch's sign gives 0 at NaN). No gradient.</summary>
    public Tensor Sign() => UnaryNode.Apply(UnaryOp.Sign, this);
    /// <summary>max(x, 0), NaN kept. The gradient is 0 where x ≤ 0 (0 at x = 0) and passes unchanged elsewhere, NaN
    /// included: PyTorch's threshold_backward (x ≤ 0 ? 0 : g), so a NaN input's gradient reaches what made it.</summary>
    public Tensor Relu() => UnaryNode.Apply(UnaryOp.Relu, this);
    /// <summary>x &gt; 0 ? x : slope x; the gradient is slope at 0 and at NaN, as PyTorch's leaky_relu_backward.</summary>
    public Tensor LeakyRelu(float negativeSlope = 0.01f) => UnaryNode.Apply(UnaryOp.LeakyRelu, this, negativeSlope);
    public Tensor Sigmoid() => UnaryNode.Apply(UnaryOp.Sigmoid, this);
    public Tensor Tanh() => UnaryNode.Apply(UnaryOp.Tanh, this);
    /// <summary>log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): never overflows, and keeps full relative accuracy
    /// for very negative x (≈ exp(x)) down to float's underflow. PyTorch switches to x above its threshold 20; here the
    /// exact form is used everywhere (the two differ by less than float's rounding there).</summary>
    public Tensor Softplus() => UnaryNode.Apply(UnaryOp.Softplus, this);
    public Tensor Pow(float exponent) => exponent == 1 ? this : UnaryNode.Apply(UnaryOp.Pow, this, exponent);
    public Tensor Square() => UnaryNode.Apply(UnaryOp.Pow, this, 2);
    /// <summary>scale * x + shift in one kernel (the scalar forms of + - * / use it).</summary>
    public Tensor Affine(float scale, float shift) => UnaryNode.Apply(UnaryOp.Affine, this, scale, shift);
    /// <summary>min(max(x, min), max), NaN kept. The gradient passes on the closed interval, bounds included, and is 0
    /// outside and at NaN (PyTorch's clamp_backward).</summary>
    public Tensor Clamp(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max) || min > max)
            throw new ArgumentException($"Clamp: min {min} must not exceed max {max}.");
        return UnaryNode.Apply(UnaryOp.Clamp, this, min, max);
    }
}

/// <summary>Element-wise primitives y = f(x) and their derivatives, side by side.</summary>
internal sealed class UnaryNode : PooledNode<UnaryNode>
{
    private UnaryOp _op;
    private float _alpha, _beta;
    private Tensor? _output;

    public UnaryNode() { }

    private protected override void ClearSaved() => _output = null;

    public override string Name => OpNames.BackwardOf(_op);

    public static Tensor Apply(UnaryOp op, Tensor x, float alpha = 0, float beta = 0)
    {
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.Unary(op, x, y, alpha, beta);
        Anomaly.Check(OpNames.Of(op), y);
        if (Tensor.ShouldRecord(x) && op != UnaryOp.Sign)
        {
            var node = NodePool<UnaryNode>.Rent();
            (node._op, node._alpha, node._beta) = (op, alpha, beta);
            node.SetInputs(x);
            // Only rules that read the output keep it (a cycle the GC handles; no copy).
            if (op is UnaryOp.Exp or UnaryOp.Sqrt or UnaryOp.Sigmoid or UnaryOp.Tanh) node._output = y;
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!GradMode.IsEnabled && _op is not (UnaryOp.Neg or UnaryOp.Affine))
        {
            // First-order pass: one fused kernel computes f'(x) * g.
            var dx = Tensor.Empty(x.Shape, x.Device);
            x.Backend.UnaryGrad(_op, x, _output ?? x, g, dx, _alpha, _beta);
            return Grads(dx);
        }
        // Differentiable rules, used when the backward pass itself is recorded (createGraph).
        Tensor grad = _op switch
        {
            UnaryOp.Neg => g.Neg(),
            UnaryOp.Affine => g * _alpha,
            UnaryOp.Exp => g * _output!,
            UnaryOp.Log => g / x,
            UnaryOp.Sqrt => g / (_output! * 2f),
            // (x > 0) - (x < 0) rather than Sign: 0 at NaN, like the fused kernel.
            UnaryOp.Abs => g * (x.Gt(0f) - x.Lt(0f)),
            UnaryOp.Relu => Tensor.Where(x.Le(0f), Tensor.Scalar(0f, x.Device), g),
            UnaryOp.LeakyRelu => g * Tensor.Where(x.Gt(0f), Tensor.Scalar(1f, x.Device), Tensor.Scalar(_alpha, x.Device)),
            UnaryOp.Sigmoid => g * _output! * (1f - _output!),
            UnaryOp.Tanh => g * (1f - _output!.Square()),
            UnaryOp.Softplus => g * x.Sigmoid(),
            UnaryOp.Pow => g * x.Pow(_alpha - 1) * _alpha,
            UnaryOp.Clamp => g * (x.Ge(_alpha) * x.Le(_beta)),
            _ => throw new InvalidOperationException($"{_op} has no gradient rule."),
        };
        return Grads(grad);
    }
}
