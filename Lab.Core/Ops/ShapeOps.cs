using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>Same elements, new shape (shares storage). One dimension may be -1 and is inferred.</summary>
    public Tensor Reshape(params int[] shape) => ReshapeNode.Apply(this, shape);
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Collapses dimensions startDim..endDim into one (Keras's Flatten keeps the batch axis: startDim 1).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = ShapeUtil.Axis("Flatten", startDim, Rank), e = ShapeUtil.Axis("Flatten", endDim, Rank);
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim} for rank {Rank}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(Shape[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= Shape[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++) shape.Add(Shape[i]);
        return Reshape(shape.ToArray());
    }

    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.Axis("Unsqueeze", dim, Rank + 1);
        var shape = new List<int>(_shape);
        shape.Insert(d, 1);
        return Reshape(shape.ToArray());
    }

    public Tensor Squeeze(int dim)
    {
        int d = ShapeUtil.Axis("Squeeze", dim, Rank);
        if (Shape[d] != 1) throw new ArgumentException($"Squeeze: dimension {dim} of shape {ShapeUtil.Format(Shape)} has size {Shape[d]}, not 1.");
        var shape = new List<int>(_shape);
        shape.RemoveAt(d);
        return Reshape(shape.ToArray());
    }

    /// <summary>A view with another shape and no autograd history (for data handling inside kernels and loaders).</summary>
    internal Tensor ReshapeView(int[] shape) => new(Storage, Offset, shape);

    internal static int[] InferShape(string op, int numel, ReadOnlySpan<int> from, int[] shape)
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
        var result = (int[])shape.Clone();
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(from)} ({numel} elements) into {ShapeUtil.Format(shape)}.");
            result[infer] = (int)(numel / known);
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(from)} ({numel} elements) into {ShapeUtil.Format(shape)} ({known} elements).");
        return result;
    }
}

internal sealed class ReshapeNode : Node
{
    private ReshapeNode(Tensor x) : base(x) { }

    public static Tensor Apply(Tensor x, int[] shape)
    {
        var target = Tensor.InferShape("Reshape", x.Numel, x.Shape, shape);
        var y = x.ReshapeView(target);
        if (Tensor.ShouldRecord(x)) y.Record(new ReshapeNode(x));
        return y;
    }

    public override Tensor?[] Backward(Tensor g) => [g.Reshape(Inputs[0].ShapeArray())];
}
