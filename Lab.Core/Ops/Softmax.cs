using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    public Tensor Softmax(int axis = -1) => SoftmaxNode.Apply(this, axis, log: false);
    /// <summary>log(softmax(x)) computed as x - max - log(sum(exp(x - max))): no overflow, no log(0).</summary>
    public Tensor LogSoftmax(int axis = -1) => SoftmaxNode.Apply(this, axis, log: true);
}

internal sealed class SoftmaxNode : PooledNode<SoftmaxNode>
{
    private int _axis;
    private bool _log;
    private Tensor _output = null!;

    public SoftmaxNode() { }

    private protected override void ClearSaved() => _output = null!;

    public override string Name => _log ? "LogSoftmaxBackward" : "SoftmaxBackward";

    /// <summary>The axis this node normalised over.</summary>
    internal int Axis => _axis;
    /// <summary>Whether this node is a log-softmax.</summary>
    internal bool IsLog => _log;

    public static Tensor Apply(Tensor x, int axis, bool log)
    {
        string name = log ? "LogSoftmax" : "Softmax";
        int ax = ShapeUtil.Axis(name, axis, x.Rank);
        var (outer, n, inner) = ShapeUtil.Split(x.Shape, ax);
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.Softmax(x, y, outer, n, inner, log);
        Anomaly.Check(name, y);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<SoftmaxNode>.Rent();
            (node._axis, node._log, node._output) = (ax, log, y);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var y = _output;
        if (!GradMode.IsEnabled)
        {
            var (outer, n, inner) = ShapeUtil.Split(y.Shape, _axis);
            var dx = Tensor.Empty(y.Shape, y.Device);
            y.Backend.SoftmaxGrad(y, g, dx, outer, n, inner, _log);
            return Grads(dx);
        }
        return Grads(_log
            ? g - y.Exp() * g.Sum(_axis, keepDim: true)
            : y * (g - (g * y).Sum(_axis, keepDim: true)));
    }
}
