using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Same elements, new shape (shares storage). One dimension may be -1 and is inferred.</summary>
    public Tensor Reshape(params ReadOnlySpan<int> shape) => ReshapeNode.Apply(this, shape);
    public Tensor View(params ReadOnlySpan<int> shape) => Reshape(shape);

    /// <summary>Collapses dimensions startDim..endDim into one (Keras's Flatten keeps the batch axis: startDim 1).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = ShapeUtil.Axis("Flatten", startDim, Rank), e = ShapeUtil.Axis("Flatten", endDim, Rank);
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim} for rank {Rank}.");
        Span<int> shape = stackalloc int[Rank];
        int n = 0;
        for (int i = 0; i < s; i++) shape[n++] = Shape[i];
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= Shape[i];
        shape[n++] = merged;
        for (int i = e + 1; i < Rank; i++) shape[n++] = Shape[i];
        return Reshape(shape[..n]);
    }

    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.Axis("Unsqueeze", dim, Rank + 1);
        Span<int> shape = stackalloc int[Rank + 1];
        for (int i = 0, j = 0; i <= Rank; i++) shape[i] = i == d ? 1 : _shape[j++];
        return Reshape(shape);
    }

    public Tensor Squeeze(int dim)
    {
        int d = ShapeUtil.Axis("Squeeze", dim, Rank);
        if (Shape[d] != 1) throw new ArgumentException($"Squeeze: dimension {dim} of shape {ShapeUtil.Format(Shape)} has size {Shape[d]}, not 1.");
        Span<int> shape = stackalloc int[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++) if (i != d) shape[j++] = _shape[i];
        return Reshape(shape);
    }

    /// <summary>A view with another shape and no autograd history (for data handling inside kernels and loaders).</summary>
    internal Tensor ReshapeView(ReadOnlySpan<int> shape) => Make(Storage, Offset, shape);

    /// <summary>The target of a reshape with its -1 inferred, written into <paramref name="result"/> (same length as <paramref name="shape"/>).</summary>
    internal static void InferShape(string op, int numel, ReadOnlySpan<int> from, ReadOnlySpan<int> shape, Span<int> result)
    {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1 in {ShapeUtil.Format(shape)}.");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"{op}: invalid dimension {shape[i]} in {ShapeUtil.Format(shape)}.");
            else known *= shape[i];
        }
        shape.CopyTo(result);
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(from)} ({numel} elements) into {ShapeUtil.Format(shape)}.");
            result[infer] = (int)(numel / known);
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(from)} ({numel} elements) into {ShapeUtil.Format(shape)} ({known} elements).");
    }
}

internal sealed class ReshapeNode : PooledNode<ReshapeNode>
{
    public ReshapeNode() { }

    public static Tensor Apply(Tensor x, ReadOnlySpan<int> shape)
    {
        Span<int> target = stackalloc int[shape.Length];
        Tensor.InferShape("Reshape", x.Numel, x.Shape, shape, target);
        var y = x.ReshapeView(target);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<ReshapeNode>.Rent();
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g) => Grads(g.Reshape(Inputs[0].Shape));
}
