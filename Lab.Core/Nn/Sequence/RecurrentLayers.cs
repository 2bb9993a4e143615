namespace Lab.Core.Nn;

/// <summary>Keras's SimpleRNN: h_t = activation(x_t W + h_{t-1} U + b), tanh by default.</summary>
public sealed class SimpleRnn : RecurrentLayer
{
    public SimpleRnn(int inputSize, int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false,
        Activation activation = Activation.Tanh, bool useBias = true, float dropout = 0, float recurrentDropout = 0, Generator? generator = null)
        : base("SimpleRNN", inputSize, units, 1, returnSequences, returnState, goBackwards, dropout, recurrentDropout, generator)
    {
        Activation = activation;
        if (useBias) Bias = RegisterParameter("bias", Tensor.Zeros(units));
    }

    public Activation Activation { get; }
    public override int StateCount => 1;

    private protected override Tensor Step(Tensor projected, Tensor h, Tensor? recurrentMask, out Tensor output)
        => output = Activations.Apply(Activation, projected + Tensor.MatMul(Dropped(h, recurrentMask), RecurrentKernel));

    private protected override Tensor InitialCarry(int batch, IReadOnlyList<Tensor>? initialState, Device device)
        => initialState?[0] ?? Tensor.Zeros([batch, Units], device);

    private protected override (Tensor State, Tensor? Cell) FinalStates(Tensor carry) => (carry, null);

    internal override RecurrentLayer Twin() => new SimpleRnn(InputSize, Units, ReturnSequences, ReturnState, !GoBackwards, Activation,
        Bias is not null, Dropout, RecurrentDropout, Generator);

    public override string Describe() => $"SimpleRNN({InputSize} -> {Units}{Activations.Name(Activation)}{Options()})";
}

/// <summary>
/// Keras's LSTM (gates i, f, c, o; sigmoid gates, tanh cell): c_t = f c_{t-1} + i c̃, h_t = o tanh(c_t). The bias
/// starts at zero with ones on the forget gate (Keras's unit_forget_bias). States are h and c.
/// </summary>
public sealed class Lstm : RecurrentLayer
{
    public Lstm(int inputSize, int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false,
        bool useBias = true, bool unitForgetBias = true, float dropout = 0, float recurrentDropout = 0, Generator? generator = null)
        : base("LSTM", inputSize, units, 4, returnSequences, returnState, goBackwards, dropout, recurrentDropout, generator)
    {
        UnitForgetBias = unitForgetBias;
        if (useBias)
        {
            var b = new float[4 * units];
            if (unitForgetBias) b.AsSpan(units, units).Fill(1f);
            Bias = RegisterParameter("bias", Tensor.FromArray(b, [4 * units]));
        }
    }

    public bool UnitForgetBias { get; }
    public override int StateCount => 2;

    /// <summary>The carry is the state [2, B, H] (h, then c) that the fused step makes.</summary>
    private protected override Tensor Step(Tensor projected, Tensor state, Tensor? recurrentMask, out Tensor output)
    {
        var recurrent = Tensor.MatMul(Dropped(state.Select(0), recurrentMask), RecurrentKernel);
        var next = Tensor.LstmCell(projected, recurrent, state.Select(1));
        output = next.Select(0);
        return next;
    }

    /// <summary>The whole recurrence in one op (<see cref="Tensor.LstmSequence"/>): its rows are the step outputs, then h and c.</summary>
    private protected override RecurrentOutput? RunSequence(Tensor projected, Tensor? maskByStep, Tensor initialCarry, bool zeroOutputForMask)
    {
        var y = Tensor.LstmSequence(projected, RecurrentKernel, initialCarry, maskByStep, GoBackwards, zeroOutputForMask, OutputInInputOrder);
        return Outputs(y);
    }

    /// <summary>Bidirectional's two LSTMs (of one width) in one op, each direction on its own thread where the CPU has two.</summary>
    internal static (RecurrentOutput, RecurrentOutput) RunPair(Lstm forward, Tensor forwardProjected, Tensor forwardCarry,
        Lstm backward, Tensor backwardProjected, Tensor backwardCarry, Tensor? maskByStep, bool zeroOutputForMask)
    {
        var y = Tensor.LstmSequencePair(forwardProjected, forward.RecurrentKernel, forwardCarry, forward.GoBackwards, forward.OutputInInputOrder,
            backwardProjected, backward.RecurrentKernel, backwardCarry, backward.GoBackwards, backward.OutputInInputOrder, maskByStep, zeroOutputForMask);
        return (forward.Outputs(y.Select(0)), backward.Outputs(y.Select(1)));
    }

    /// <summary>
    /// The layer's results from the op's rows [T + 2, B, H]. Without returnSequences the output is the last step's: at
    /// the last row, or at row 0 for a backward layer that keeps its outputs in input order.
    /// </summary>
    private RecurrentOutput Outputs(Tensor y)
    {
        int steps = y.Shape[0] - 2;
        var output = ReturnSequences ? y.Narrow(0, 0, steps).Permute(SwapBatchAndTime) : y.Select(OutputInInputOrder && GoBackwards ? 0 : steps - 1);
        return new RecurrentOutput(output, y.Select(steps), y.Select(steps + 1));
    }

    private protected override Tensor InitialCarry(int batch, IReadOnlyList<Tensor>? initialState, Device device)
        => initialState is null ? Tensor.Zeros([2, batch, Units], device) : Tensor.Concat([initialState[0].Unsqueeze(0), initialState[1].Unsqueeze(0)], 0);

    private protected override (Tensor State, Tensor? Cell) FinalStates(Tensor carry) => (carry.Select(0), carry.Select(1));

    internal override RecurrentLayer Twin() => new Lstm(InputSize, Units, ReturnSequences, ReturnState, !GoBackwards, Bias is not null,
        UnitForgetBias, Dropout, RecurrentDropout, Generator);

    public override string Describe() => $"LSTM({InputSize} -> {Units}{Options()})";
}

/// <summary>
/// Keras's GRU (gates z, r, h): z = σ(x W_z + h U_z + b_z), r likewise, h_t = z h_{t-1} + (1 - z) h̃. With
/// resetAfter (Keras 2's default, cuDNN's form) h̃ = tanh(x W_h + b_h + r (h U_h + b'_h)) and the bias is [2, 3H]
/// (input row, recurrent row); without, h̃ = tanh(x W_h + (r h) U_h + b_h) and the bias is [3H].
/// </summary>
public sealed class Gru : RecurrentLayer
{
    public Gru(int inputSize, int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false,
        bool resetAfter = true, bool useBias = true, float dropout = 0, float recurrentDropout = 0, Generator? generator = null)
        : base("GRU", inputSize, units, 3, returnSequences, returnState, goBackwards, dropout, recurrentDropout, generator)
    {
        ResetAfter = resetAfter;
        if (useBias) Bias = RegisterParameter("bias", resetAfter ? Tensor.Zeros(2, 3 * units) : Tensor.Zeros(3 * units));
    }

    public bool ResetAfter { get; }
    public override int StateCount => 1;

    private protected override Tensor Project(Tensor rows)
    {
        var p = Tensor.MatMul(rows, Kernel);
        if (Bias is null) return p;
        return p + (ResetAfter ? Bias.Select(0) : Bias);
    }

    private protected override Tensor Step(Tensor projected, Tensor h, Tensor? recurrentMask, out Tensor output)
    {
        var hIn = Dropped(h, recurrentMask);
        if (ResetAfter)
        {
            var recurrent = Tensor.MatMul(hIn, RecurrentKernel);
            if (Bias is not null) recurrent = recurrent + Bias.Select(1);
            return output = Tensor.GruCell(projected, recurrent, h);
        }
        int n = Units;
        var zr = (projected.Narrow(1, 0, 2 * n) + Tensor.MatMul(hIn, RecurrentKernel.Narrow(1, 0, 2 * n))).Sigmoid();
        var (z, r) = (zr.Narrow(1, 0, n), zr.Narrow(1, n, n));
        var candidate = (projected.Narrow(1, 2 * n, n) + Tensor.MatMul(r * hIn, RecurrentKernel.Narrow(1, 2 * n, n))).Tanh();
        return output = candidate + z * (h - candidate);
    }

    private protected override Tensor InitialCarry(int batch, IReadOnlyList<Tensor>? initialState, Device device)
        => initialState?[0] ?? Tensor.Zeros([batch, Units], device);

    private protected override (Tensor State, Tensor? Cell) FinalStates(Tensor carry) => (carry, null);

    internal override RecurrentLayer Twin() => new Gru(InputSize, Units, ReturnSequences, ReturnState, !GoBackwards, ResetAfter,
        Bias is not null, Dropout, RecurrentDropout, Generator);

    public override string Describe() => $"GRU({InputSize} -> {Units}{(ResetAfter ? "" : ", reset_after=False")}{Options()})";
}
