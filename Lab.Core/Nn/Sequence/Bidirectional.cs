namespace Lab.Core.Nn;

/// <summary>How <see cref="Bidirectional"/> joins its two directions (Keras's merge_mode).</summary>
public enum MergeMode { Concat, Sum, Mul, Ave, None }

/// <summary>
/// Keras's Bidirectional: the layer on the sequence and a twin (same configuration, its own weights, or the
/// <paramref name="backwardLayer"/> given) on the reversed sequence. With returnSequences the backward outputs are put
/// back in the input's order, and masked steps give zeros in both (Keras sets zero_output_for_mask); the two are then
/// concatenated on the last axis, summed, multiplied, averaged, or (<see cref="MergeMode.None"/>) returned as a pair by
/// <see cref="ForwardBoth"/>. The mask reaches both directions.
/// </summary>
public sealed class Bidirectional : Module, IMaskedLayer
{
    public Bidirectional(RecurrentLayer layer, MergeMode mergeMode = MergeMode.Concat, RecurrentLayer? backwardLayer = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        backwardLayer ??= layer.Twin();
        if (backwardLayer == layer) throw new ArgumentException("Bidirectional: the backward layer must be another layer object than the forward one.");
        if (backwardLayer.GoBackwards == layer.GoBackwards)
            throw new ArgumentException($"Bidirectional: the backward layer must run the other way (goBackwards {!layer.GoBackwards}), got goBackwards {backwardLayer.GoBackwards}.");
        if (backwardLayer.ReturnSequences != layer.ReturnSequences || backwardLayer.ReturnState != layer.ReturnState || backwardLayer.InputSize != layer.InputSize)
            throw new ArgumentException("Bidirectional: the backward layer must have the forward layer's input size, returnSequences and returnState.");
        if (mergeMode is MergeMode.Sum or MergeMode.Mul or MergeMode.Ave && backwardLayer.Units != layer.Units)
            throw new ArgumentException($"Bidirectional: merge mode {mergeMode} needs both directions of one width, got {layer.Units} and {backwardLayer.Units} units.");
        MergeMode = mergeMode;
        Forwards = RegisterModule("forward_layer", layer);
        Backwards = RegisterModule("backward_layer", backwardLayer);
        foreach (var l in new[] { Forwards, Backwards }) l.ZeroOutputForMask = l.ReturnSequences;
        Backwards.OutputInInputOrder = true;
    }

    public MergeMode MergeMode { get; }
    public RecurrentLayer Forwards { get; }
    public RecurrentLayer Backwards { get; }
    public bool ReturnSequences => Forwards.ReturnSequences;

    public override Tensor Forward(Tensor x) => Forward(x, null);

    public Tensor Forward(Tensor x, Tensor? mask)
    {
        if (MergeMode == MergeMode.None)
            throw new InvalidOperationException("Bidirectional with merge mode None has two outputs: call ForwardBoth.");
        var (f, b) = ForwardBoth(x, mask);
        return Merge(f, b);
    }

    /// <summary>Both directions' outputs, unmerged (merge mode None's result; the backward one in input order).</summary>
    public (Tensor Forward, Tensor Backward) ForwardBoth(Tensor x, Tensor? mask = null)
    {
        var (f, b) = RecurrentLayer.RunPair(Forwards, Backwards, x, mask, null, null);
        return (f.Output, b.Output);
    }

    /// <summary>
    /// Keras's return_state: the merged output (or both, for merge mode None), then the forward layer's final states,
    /// then the backward layer's. Initial states, when given, are the forward layer's followed by the backward layer's.
    /// </summary>
    public Tensor[] CallWithStates(Tensor x, Tensor? mask = null, IReadOnlyList<Tensor>? initialState = null)
    {
        int n = Forwards.StateCount;
        if (initialState is not null && initialState.Count != 2 * n)
            throw new ArgumentException($"Bidirectional: expected {2 * n} initial state tensors (forward, then backward), got {initialState.Count}.");
        var (f, b) = RecurrentLayer.RunPair(Forwards, Backwards, x, mask, initialState?.Take(n).ToArray(), initialState?.Skip(n).ToArray());
        var result = new List<Tensor>();
        if (MergeMode == MergeMode.None) { result.Add(f.Output); result.Add(b.Output); }
        else result.Add(Merge(f.Output, b.Output));
        if (!Forwards.ReturnState) return [.. result];
        result.Add(f.State);
        if (f.CellState is not null) result.Add(f.CellState);
        result.Add(b.State);
        if (b.CellState is not null) result.Add(b.CellState);
        return [.. result];
    }

    private Tensor Merge(Tensor f, Tensor b) => MergeMode switch
    {
        MergeMode.Concat => Tensor.Concat([f, b], -1),
        MergeMode.Sum => f + b,
        MergeMode.Mul => f * b,
        MergeMode.Ave => (f + b) * 0.5f,
        _ => throw new InvalidOperationException($"Bidirectional: merge mode {MergeMode} does not merge."),
    };

    public Tensor? ComputeMask(Tensor x, Tensor? mask) => ReturnSequences ? mask : null;

    public override string Describe() => $"Bidirectional({Forwards.Describe()}, merge {MergeMode.ToString().ToLowerInvariant()})";
}
