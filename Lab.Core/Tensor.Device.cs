using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>This tensor on another device (itself when already there); gradients flow back across.</summary>
    public Tensor To(Device device) => ToDeviceNode.Apply(this, device);

    /// <summary>A copy with its own storage; gradients flow through.</summary>
    public Tensor Clone() => ToDeviceNode.Apply(this, Device, force: true);

    // ---- in-place updates (optimizers, data loading); never recorded ----

    /// <summary>Overwrites this tensor's elements with <paramref name="source"/>'s (same shape).</summary>
    public void CopyFrom(Tensor source)
    {
        RequireInPlace("CopyFrom");
        if (!source.Shape.SequenceEqual(Shape))
            throw new ArgumentException($"CopyFrom: source shape {ShapeUtil.Format(source.Shape)} differs from {ShapeUtil.Format(Shape)}.");
        if (source.Device == Device) Backend.Copy(source, this);
        else Backend.Upload(source.ToArray(), this);
    }

    public void CopyFrom(ReadOnlySpan<float> values)
    {
        RequireInPlace("CopyFrom");
        if (values.Length != Numel)
            throw new ArgumentException($"CopyFrom: {values.Length} values for a tensor of shape {ShapeUtil.Format(Shape)} ({Numel} elements).");
        Backend.Upload(values, this);
    }

    public void Fill(float value) { RequireInPlace("Fill"); Backend.Fill(this, value); }
    public void Zero() => Fill(0f);

    /// <summary>this += alpha * other (same shape).</summary>
    public void AddInPlace(Tensor other, float alpha = 1f)
    {
        RequireInPlace("AddInPlace");
        if (!other.Shape.SequenceEqual(Shape))
            throw new ArgumentException($"AddInPlace: shape {ShapeUtil.Format(other.Shape)} differs from {ShapeUtil.Format(Shape)}.");
        if (other.Device != Device) throw new ArgumentException($"AddInPlace: tensors are on {other.Device} and {Device}.");
        Backend.Axpy(alpha, other, this);
    }

    private void RequireInPlace(string op)
    {
        if (GradFn is not null || (RequiresGrad && GradMode.IsEnabled))
            throw new InvalidOperationException($"{op}: in-place change of a tensor that takes part in autograd; do it inside a NoGrad scope or on a Detach()ed tensor.");
    }
}

internal sealed class ToDeviceNode : PooledNode<ToDeviceNode>
{
    public ToDeviceNode() { }

    public static Tensor Apply(Tensor x, Device device, bool force = false)
    {
        if (x.Device == device && !force) return x;
        var y = Tensor.Empty(x.Shape, device);
        if (x.Device == device) x.Backend.Copy(x, y);
        else if (x.Device == Device.Cpu) y.Backend.Upload(x.Span, y);
        else if (device == Device.Cpu) x.Backend.Download(x, y.Span);
        else y.Backend.Upload(x.ToArray(), y);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<ToDeviceNode>.Rent();
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    public override Tensor?[] Backward(Tensor g) => Grads(g.Device == Inputs[0].Device ? g : g.To(Inputs[0].Device));
}
