using Lab.Core.Diagnostics;

namespace Lab.Core.Nn;

/// <summary>
/// A layer that takes and gives Keras masks: a [B, T] float tensor over the time steps of a [B, T, ...] input,
/// 1 where a step is kept and 0 where it is padding. <see cref="Embedding"/> with maskZero makes one; recurrent
/// layers skip the masked steps; <see cref="ComputeMask"/> says what mask the layer's output carries (Keras's
/// compute_mask), so a container can hand it to the next layer (<see cref="Sequential"/> does).
/// </summary>
public interface IMaskedLayer
{
    /// <summary>The layer on <paramref name="x"/> with the mask of its time steps (null: every step is kept).</summary>
    Tensor Forward(Tensor x, Tensor? mask);

    /// <summary>The mask of this layer's output for input <paramref name="x"/> carrying <paramref name="mask"/>; null for none.</summary>
    Tensor? ComputeMask(Tensor x, Tensor? mask);
}

/// <summary>The mask checks and the masked call that the sequence layers share.</summary>
public static class Masks
{
    /// <summary>Runs a masked layer as <see cref="Module.Call"/> does (profiler, summary), passing the mask.</summary>
    public static Tensor Call<TLayer>(this TLayer layer, Tensor x, Tensor? mask) where TLayer : Module, IMaskedLayer
        => CallMasked(layer, layer, x, mask);

    internal static Tensor CallMasked(Module layer, IMaskedLayer masked, Tensor x, Tensor? mask)
    {
        if (mask is null) return layer.Call(x);
        long start = OpProfiler.Enabled ? OpProfiler.Begin() : 0;
        var y = masked.Forward(x, mask);
        if (OpProfiler.Enabled) OpProfiler.End(start, "forward", layer, layer, static m => ((Module)m).Describe(), x.Shape);
        SummaryRecorder.Current?.Record(layer, y);
        return y;
    }

    /// <summary>Checks that <paramref name="mask"/> is [B, T] for a [B, T, ...] input on the same device.</summary>
    public static void Check(string layer, Tensor x, Tensor? mask)
    {
        if (mask is null) return;
        if (x.Rank < 2 || mask.Rank != 2 || mask.Shape[0] != x.Shape[0] || mask.Shape[1] != x.Shape[1])
            throw new ArgumentException($"{layer}: expected a mask [B, T] = [{(x.Rank > 0 ? x.Shape[0] : 0)}, {(x.Rank > 1 ? x.Shape[1] : 0)}] " +
                $"for the input {ShapeUtil.Format(x.Shape)}, got {ShapeUtil.Format(mask.Shape)}.");
        if (mask.Device != x.Device) throw new ArgumentException($"{layer}: the mask is on {mask.Device}, the input on {x.Device}.");
    }
}
