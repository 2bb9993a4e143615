namespace Lab.Core.Nn;

/// <summary>A recurrent layer's result: its output (the last one, or the sequence) and its final states (h; c for an LSTM).</summary>
public readonly record struct RecurrentOutput(Tensor Output, Tensor State, Tensor? CellState);

/// <summary>
/// What Keras's SimpleRNN, LSTM and GRU share: inputs [B, T, D] (batch first), weights in Keras's layout ("kernel"
/// [D, gates·H], "recurrent_kernel" [H, gates·H], "bias"), returnSequences ([B, T, H] instead of [B, H]),
/// returnState, goBackwards (the steps run from last to first and the sequence comes back in that order),
/// initial states, masks (masked steps keep the state and repeat the last output, or give zeros with
/// <see cref="ZeroOutputForMask"/>), and dropout / recurrentDropout with one mask per sequence, the same at every
/// step, in training only.
/// </summary>
/// <remarks>
/// The input projection of every step is one GEMM ([T·B, D] x [D, gates·H], bias included) before the loop; each
/// step is then one GEMM h U and the layer's fused gate kernel. Nothing in the loop allocates managed memory inside
/// a <see cref="TensorScope"/>.
/// </remarks>
public abstract class RecurrentLayer : Module, IMaskedLayer
{
    // A field, not a collection expression: Debug builds allocate those on every call.
    private protected static readonly int[] SwapBatchAndTime = [1, 0, 2];

    private readonly Generator _dropoutGenerator;
    private Tensor[] _steps = [];

    private protected RecurrentLayer(string layer, int inputSize, int units, int gates, bool returnSequences, bool returnState,
        bool goBackwards, float dropout, float recurrentDropout, Generator? generator)
    {
        if (inputSize < 1 || units < 1) throw new ArgumentException($"{layer}: input size and units must be positive, got {inputSize} and {units}.");
        if (!(dropout >= 0 && dropout < 1) || !(recurrentDropout >= 0 && recurrentDropout < 1))
            throw new ArgumentException($"{layer}: dropout and recurrentDropout must be in [0, 1), got {dropout} and {recurrentDropout}.");
        (LayerName, InputSize, Units, Gates) = (layer, inputSize, units, gates);
        (ReturnSequences, ReturnState, GoBackwards, Dropout, RecurrentDropout) = (returnSequences, returnState, goBackwards, dropout, recurrentDropout);
        Generator = generator ?? Init.Default;
        _dropoutGenerator = Generator.Fork();
        // Keras's initialisers: a Glorot-uniform input kernel and an orthogonal recurrent kernel, the gates side by side.
        Kernel = RegisterParameter("kernel", Init.GlorotUniform(Generator, [inputSize, gates * units], inputSize, gates * units));
        RecurrentKernel = RegisterParameter("recurrent_kernel", Init.Orthogonal(Generator, [units, gates * units]));
    }

    /// <summary>The input kernel [input size, gates × units].</summary>
    public Tensor Kernel { get; }
    /// <summary>The recurrent kernel [units, gates × units].</summary>
    public Tensor RecurrentKernel { get; }
    /// <summary>The bias (its layout is the layer's: GRU with resetAfter keeps an input and a recurrent row); null without one.</summary>
    public Tensor? Bias { get; private protected set; }

    private protected string LayerName { get; }
    private protected Generator Generator { get; }
    public int InputSize { get; }
    public int Units { get; }
    /// <summary>Gates side by side in the kernels: 1 (SimpleRNN), 3 (GRU: z, r, h) or 4 (LSTM: i, f, c, o).</summary>
    public int Gates { get; }
    public bool ReturnSequences { get; }
    public bool ReturnState { get; }
    public bool GoBackwards { get; }
    public float Dropout { get; }
    public float RecurrentDropout { get; }
    /// <summary>Masked steps output zeros instead of the last output (Keras's Bidirectional sets it when returning sequences).</summary>
    public bool ZeroOutputForMask { get; set; }
    /// <summary>A backward layer's sequence in the order of its input (Bidirectional's: Keras reverses it back).</summary>
    internal bool OutputInInputOrder { get; set; }

    /// <summary>How many state tensors the layer carries (and <see cref="CallWithStates"/> returns after the output).</summary>
    public abstract int StateCount { get; }

    public override Tensor Forward(Tensor x) => Run(x).Output;

    public Tensor Forward(Tensor x, Tensor? mask) => Run(x, mask).Output;

    /// <summary>The mask goes on with the sequence (returnSequences) and ends with a single output (Keras).</summary>
    public Tensor? ComputeMask(Tensor x, Tensor? mask) => ReturnSequences ? mask : null;

    /// <summary>Keras's call result as a list: [output] or, with returnState, [output, h] ([output, h, c] for an LSTM).</summary>
    public Tensor[] CallWithStates(Tensor x, Tensor? mask = null, IReadOnlyList<Tensor>? initialState = null)
    {
        var r = Run(x, mask, initialState);
        if (!ReturnState) return [r.Output];
        return r.CellState is null ? [r.Output, r.State] : [r.Output, r.State, r.CellState];
    }

    /// <summary>The layer on x [B, T, D] with an optional mask [B, T] and initial states (each [B, units]).</summary>
    public RecurrentOutput Run(Tensor x, Tensor? mask = null, IReadOnlyList<Tensor>? initialState = null)
    {
        var (projected, recurrentMask, maskByStep, carry) = Prepare(x, mask, initialState);
        if (recurrentMask is null && !t_forceStepLoop && RunSequence(projected, maskByStep, carry, ZeroOutputForMask && mask is not null) is { } whole)
            return whole;
        int batch = x.Shape[0], steps = x.Shape[1];

        if (ReturnSequences && _steps.Length != steps) _steps = new Tensor[steps];
        Tensor? output = null;
        var zero = ZeroOutputForMask && mask is not null ? Tensor.Scalar(0f, x.Device) : null;
        for (int s = 0; s < steps; s++)
        {
            int t = GoBackwards ? steps - 1 - s : s;
            var next = Step(projected.Select(t), carry, recurrentMask, out var stepOutput);
            if (maskByStep is not null)
            {
                // Masked samples keep their state; their output repeats the last one (zeros before the first) or is zero.
                var keep = maskByStep.Select(t).Reshape(batch, 1);
                next = Tensor.Where(keep, next, carry);
                stepOutput = Tensor.Where(keep, stepOutput, zero ?? output ?? Tensor.Zeros([batch, Units], x.Device));
            }
            carry = next;
            output = stepOutput;
            if (ReturnSequences) _steps[OutputInInputOrder ? t : s] = stepOutput.Unsqueeze(0);
        }

        if (ReturnSequences)
        {
            output = Tensor.Concat(_steps.AsSpan(), 0).Permute(SwapBatchAndTime);
            Array.Clear(_steps);
        }
        var (state, cell) = FinalStates(carry);
        return new RecurrentOutput(output!, state, cell);
    }

    /// <summary>
    /// The recurrence's operands: the input checked, input dropout applied, every step's projection (time-major
    /// [T, B, gates·H]), the recurrent dropout mask (training only), the mask by step [T, B] and the initial carry.
    /// </summary>
    private (Tensor Projected, Tensor? RecurrentMask, Tensor? MaskByStep, Tensor Carry) Prepare(Tensor x, Tensor? mask, IReadOnlyList<Tensor>? initialState)
    {
        if (x.Rank != 3 || x.Shape[2] != InputSize)
            throw new ArgumentException($"{Describe()}: expected input [batch, steps, {InputSize}], got {ShapeUtil.Format(x.Shape)}.");
        Masks.Check(LayerName, x, mask);
        int batch = x.Shape[0], steps = x.Shape[1];
        if (steps == 0) throw new ArgumentException($"{Describe()}: the input {ShapeUtil.Format(x.Shape)} has no time steps.");
        CheckInitialState(initialState, batch, x.Device);

        // Input dropout: one mask per sequence, the same at every step (Keras).
        if (Training && Dropout > 0) x = x * DropMask([batch, 1, InputSize], Dropout, x.Device);
        var projected = Project(x.Permute(SwapBatchAndTime).Reshape(steps * batch, InputSize)).Reshape(steps, batch, Gates * Units);
        Tensor? recurrentMask = Training && RecurrentDropout > 0 ? DropMask([batch, Units], RecurrentDropout, x.Device) : null;
        return (projected, recurrentMask, mask?.Transpose(0, 1), InitialCarry(batch, initialState, x.Device));
    }

    /// <summary>
    /// Bidirectional's two directions over one input and mask: as one op on two threads where both are LSTMs that run as
    /// a whole sequence (<see cref="Lstm.RunPair"/>), else each layer's <see cref="Run"/>.
    /// </summary>
    internal static (RecurrentOutput Forward, RecurrentOutput Backward) RunPair(RecurrentLayer forward, RecurrentLayer backward, Tensor x, Tensor? mask,
        IReadOnlyList<Tensor>? forwardState, IReadOnlyList<Tensor>? backwardState)
    {
        bool Whole(RecurrentLayer l) => l is Lstm && !(l.Training && l.RecurrentDropout > 0);
        if (t_forceStepLoop || !Whole(forward) || !Whole(backward) || forward.Units != backward.Units || forward.ZeroOutputForMask != backward.ZeroOutputForMask)
            return (forward.Run(x, mask, forwardState), backward.Run(x, mask, backwardState));
        var f = forward.Prepare(x, mask, forwardState);
        var b = backward.Prepare(x, mask, backwardState);
        return Lstm.RunPair((Lstm)forward, f.Projected, f.Carry, (Lstm)backward, b.Projected, b.Carry, f.MaskByStep, forward.ZeroOutputForMask && mask is not null);
    }

    /// <summary>x W + b for all steps at once ([T·B, D] to [T·B, gates·H]).</summary>
    private protected virtual Tensor Project(Tensor rows)
    {
        var p = Tensor.MatMul(rows, Kernel);
        return Bias is null ? p : p + Bias;
    }

    /// <summary>
    /// The whole recurrence as one op, where the layer has one (<see cref="Lstm"/>, without recurrent dropout): the
    /// same result as the step loop below with one autograd node instead of several per step. Null runs the loop.
    /// </summary>
    private protected virtual RecurrentOutput? RunSequence(Tensor projected, Tensor? maskByStep, Tensor initialCarry, bool zeroOutputForMask) => null;

    /// <summary>Runs the step loop on this thread even where the layer has a whole-sequence op (tests compare the two).</summary>
    internal static bool ForceStepLoop { get => t_forceStepLoop; set => t_forceStepLoop = value; }

    [ThreadStatic] private static bool t_forceStepLoop;

    /// <summary>One step from the projected input [B, gates·H] and the carried state; returns the new carry.</summary>
    private protected abstract Tensor Step(Tensor projected, Tensor carry, Tensor? recurrentMask, out Tensor output);

    /// <summary>The carried state at the start: the initial states given, or zeros.</summary>
    private protected abstract Tensor InitialCarry(int batch, IReadOnlyList<Tensor>? initialState, Device device);

    private protected abstract (Tensor State, Tensor? Cell) FinalStates(Tensor carry);

    /// <summary>The same layer (configuration, fresh weights) running the other way: Bidirectional's second direction.</summary>
    internal abstract RecurrentLayer Twin();

    /// <summary>h before the recurrent product, with the recurrent dropout mask applied.</summary>
    private protected static Tensor Dropped(Tensor h, Tensor? recurrentMask) => recurrentMask is null ? h : h * recurrentMask;

    private Tensor DropMask(ReadOnlySpan<int> shape, float p, Device device) => Tensor.Full(shape, 1f, device).Dropout(p, _dropoutGenerator);

    private void CheckInitialState(IReadOnlyList<Tensor>? initialState, int batch, Device device)
    {
        if (initialState is null) return;
        if (initialState.Count != StateCount)
            throw new ArgumentException($"{Describe()}: expected {StateCount} initial state tensor(s), got {initialState.Count}.");
        for (int i = 0; i < initialState.Count; i++)
        {
            var s = initialState[i];
            if (s.Rank != 2 || s.Shape[0] != batch || s.Shape[1] != Units)
                throw new ArgumentException($"{Describe()}: initial state {i} must be [{batch}, {Units}], got {ShapeUtil.Format(s.Shape)}.");
            if (s.Device != device) throw new ArgumentException($"{Describe()}: initial state {i} is on {s.Device}, the input on {device}.");
        }
    }

    /// <summary>The options that differ from Keras's defaults, for <see cref="Module.Describe"/>.</summary>
    private protected string Options() =>
        (ReturnSequences ? ", return_sequences" : "") + (ReturnState ? ", return_state" : "") + (GoBackwards ? ", go_backwards" : "") +
        (Dropout > 0 ? $", dropout {Dropout}" : "") + (RecurrentDropout > 0 ? $", recurrent_dropout {RecurrentDropout}" : "");
}
