using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Layer normalisation over the trailing dimensions <paramref name="normalizedShape"/> (PyTorch's F.layer_norm):
    /// each sample's elements there get mean 0 and biased variance 1 (with <paramref name="eps"/> added to the
    /// variance), then weight * y + bias, both of shape <paramref name="normalizedShape"/> when given. The normalisation
    /// is one fused kernel forward and backward; its gradient rule is written in tensor ops too, so it differentiates again.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, ReadOnlySpan<int> normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        const string op = "LayerNorm";
        int k = normalizedShape.Length;
        if (k == 0 || k > x.Rank || !x.Shape[(x.Rank - k)..].SequenceEqual(normalizedShape))
            throw new ArgumentException($"{op}: normalized shape {ShapeUtil.Format(normalizedShape)} must be the trailing dimensions of the input {ShapeUtil.Format(x.Shape)}.");
        if (!(eps >= 0)) throw new ArgumentException($"{op}: epsilon must be non-negative, got {eps}.");
        CheckAffine(op, "weight", weight, normalizedShape);
        CheckAffine(op, "bias", bias, normalizedShape);
        var y = LayerNormNode.Apply(x, ShapeUtil.Numel(normalizedShape), eps);
        if (weight is not null) y = y * weight;
        return bias is null ? y : y + bias;
    }

    private static void CheckAffine(string op, string what, Tensor? t, ReadOnlySpan<int> normalizedShape)
    {
        if (t is not null && !t.Shape.SequenceEqual(normalizedShape))
            throw new ArgumentException($"{op}: {what} must have the normalized shape {ShapeUtil.Format(normalizedShape)}, got {ShapeUtil.Format(t.Shape)}.");
    }
}

/// <summary>y = (x - mean) / sqrt(var + eps) over contiguous rows of n elements; saves y and 1 / sqrt(var + eps).</summary>
internal sealed class LayerNormNode : PooledNode<LayerNormNode>
{
    private int _rows, _n;
    private float _eps;
    private Tensor _output = null!, _rstd = null!;

    public LayerNormNode() { }

    private protected override void ClearSaved() => (_output, _rstd) = (null!, null!);

    public static Tensor Apply(Tensor x, int n, float eps)
    {
        int rows = n == 0 ? 0 : x.Numel / n;
        var y = Tensor.Empty(x.Shape, x.Device);
        var rstd = Tensor.Empty([rows], x.Device);
        x.Backend.LayerNorm(x, y, rstd, rows, n, eps);
        Anomaly.Check("LayerNorm", y);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<LayerNormNode>.Rent();
            (node._rows, node._n, node._eps, node._output, node._rstd) = (rows, n, eps, y, rstd);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!GradMode.IsEnabled)
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            x.Backend.LayerNormGrad(_output, _rstd, g, dx, _rows, _n);
            return Grads(dx);
        }
        // The same rule in differentiable ops (createGraph): rstd is recomputed from x so that it carries x's history.
        var x2 = x.Reshape(_rows, _n);
        var centered = x2 - x2.Mean(1, keepDim: true);
        var rstd = (centered.Square().Mean(1, keepDim: true) + _eps).Pow(-0.5f);
        var y2 = _output.Reshape(_rows, _n);
        var g2 = g.Reshape(_rows, _n);
        var dx2 = rstd * (g2 - g2.Mean(1, keepDim: true) - y2 * (g2 * y2).Mean(1, keepDim: true));
        return Grads(dx2.Reshape(x.Shape));
    }
}
