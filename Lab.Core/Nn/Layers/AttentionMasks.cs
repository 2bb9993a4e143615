namespace Lab.Core.Nn;

/// <summary>
/// A layer called with several tensors (Keras's call on a list, e.g. [query, value, key]): the entry point a
/// functional graph uses for a node with several inputs. Masks are [B, T] float tensors, 1 = keep, 0 = masked,
/// one per input (or null).
/// </summary>
public interface IMultiInputModule : IMultiInputLayer
{
    /// <summary>A functional model's call (Functional.Call with several inputs): no masks.</summary>
    Tensor IMultiInputLayer.Forward(IReadOnlyList<Tensor> inputs) => Forward(inputs, null);

    /// <summary>The layer's output for <paramref name="inputs"/> in Keras's order, with optional per-input masks.</summary>
    Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null);

    /// <summary>The mask of the output (Keras's compute_mask), from the inputs' masks: null when none propagates.</summary>
    Tensor? ComputeMask(IReadOnlyList<Tensor?>? masks);
}

/// <summary>Shape checks and the cached causal mask that the attention layers share.</summary>
internal static class AttentionMasks
{
    /// <summary>Checks a [B, T] sequence mask (null passes).</summary>
    public static void CheckSequenceMask(Module layer, string what, Tensor? mask, int batch, int steps, Device device)
    {
        if (mask is null) return;
        if (mask.Rank != 2 || mask.Shape[0] != batch || mask.Shape[1] != steps)
            throw new ArgumentException($"{layer.Describe()}: {what} must be [{batch}, {steps}] (batch, steps; 1 = keep, 0 = masked), got {ShapeUtil.Format(mask.Shape)}.");
        if (mask.Device != device)
            throw new ArgumentException($"{layer.Describe()}: {what} is on {mask.Device}, the inputs on {device}.");
    }

    /// <summary>
    /// Keras's causal mask, [Tq, Tv] with 1 where query i may see value j (i &gt;= j), kept in <paramref name="cache"/>
    /// outside any TensorScope so that a training step builds it once.
    /// </summary>
    public static Tensor Causal(ref Tensor? cache, int tq, int tv, Device device)
    {
        if (cache is { } c && c.Shape[0] == tq && c.Shape[1] == tv && c.Device == device) return c;
        var data = new float[tq * tv];
        for (int i = 0; i < tq; i++)
            for (int j = 0; j <= Math.Min(i, tv - 1); j++) data[i * tv + j] = 1f;
        using (TensorScope.Suspend()) cache = Tensor.FromArray(data, [tq, tv], device);
        return cache;
    }

    /// <summary>a * b, where either may be null (the logical and of 0/1 masks).</summary>
    public static Tensor? And(Tensor? a, Tensor? b) => a is null ? b : b is null ? a : a * b;

    /// <summary>The mask at <paramref name="index"/> of an optional list.</summary>
    public static Tensor? At(IReadOnlyList<Tensor?>? masks, int index) => masks is not null && index < masks.Count ? masks[index] : null;
}
