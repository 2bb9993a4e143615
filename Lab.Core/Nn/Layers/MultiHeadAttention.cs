namespace Lab.Core.Nn;

/// <summary>The weights of a multi-head attention block in Keras's layout (see <see cref="MultiHeadAttention"/>).</summary>
/// <param name="QueryKernel">[Dq, heads, keyDim].</param><param name="QueryBias">[heads, keyDim], or null.</param>
/// <param name="KeyKernel">[Dk, heads, keyDim].</param><param name="KeyBias">[heads, keyDim], or null.</param>
/// <param name="ValueKernel">[Dv, heads, valueDim].</param><param name="ValueBias">[heads, valueDim], or null.</param>
/// <param name="OutputKernel">[heads, valueDim, Dout].</param><param name="OutputBias">[Dout], or null.</param>
public readonly record struct MultiHeadWeights(Tensor QueryKernel, Tensor? QueryBias, Tensor KeyKernel, Tensor? KeyBias,
    Tensor ValueKernel, Tensor? ValueBias, Tensor OutputKernel, Tensor? OutputBias);

/// <summary>
/// Keras's MultiHeadAttention(numHeads, keyDim, valueDim = keyDim, dropout, useBias, outputShape): query, key and value
/// are projected (EinsumDense "abc,cde->abde") to [B, T, heads, dim]; each head's scores are query · keyᵀ / sqrt(keyDim),
/// softmaxed over the key steps with the attention mask (masked scores set to -1e9, and the weights of masked
/// positions zeroed, so a fully masked row attends nowhere); dropout acts on the weights in training; the heads' weighted
/// values are projected back ("abcd,cde->abe") to the query's feature size (or <c>outputShape</c>).
/// Masks: <c>attentionMask</c> [B, Tq, Tv] (1 = may attend), query/value/key masks [B, T] as Keras's implicit masks,
/// and the causal mask; all are combined with a logical and. Inputs are [batch, steps, features].
/// </summary>
public sealed class MultiHeadAttention : Module, IMultiInputModule
{
    private readonly Generator _generator;
    private Tensor? _causal;

    public MultiHeadAttention(int numHeads, int keyDim, int? valueDim = null, float dropout = 0, bool useBias = true, int? outputShape = null,
        int? queryFeatures = null, int? keyFeatures = null, int? valueFeatures = null, Generator? generator = null,
        Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null)
    {
        if (numHeads < 1 || keyDim < 1 || valueDim is < 1 || outputShape is < 1)
            throw new ArgumentException($"MultiHeadAttention: heads, keyDim, valueDim and outputShape must be positive, got {numHeads}, {keyDim}, {valueDim}, {outputShape}.");
        if (!(dropout is >= 0 and < 1)) throw new ArgumentException($"MultiHeadAttention: dropout must be in [0, 1), got {dropout}.");
        if (queryFeatures is null) throw new ArgumentException("MultiHeadAttention: give queryFeatures (the query's last dimension): GenLab builds weights eagerly.");
        if (queryFeatures < 1 || valueFeatures is < 1 || keyFeatures is < 1)
            throw new ArgumentException($"MultiHeadAttention: feature sizes must be positive, got query {queryFeatures}, key {keyFeatures}, value {valueFeatures}.");
        (NumHeads, KeyDim, ValueDim, Dropout) = (numHeads, keyDim, valueDim ?? keyDim, dropout);
        QueryFeatures = queryFeatures.Value;
        ValueFeatures = valueFeatures ?? QueryFeatures;
        KeyFeatures = keyFeatures ?? ValueFeatures;
        OutputFeatures = outputShape ?? QueryFeatures;
        var g = generator ?? Init.Default;
        _generator = generator ?? Init.Default.Fork();
        Tensor Kernel(string name, int[] shape) => RegisterParameter(name, Glorot(g, shape), kernelRegularizer);
        Tensor? Bias(string name, int[] shape) => useBias ? RegisterParameter(name, Tensor.Zeros(shape), biasRegularizer) : null;
        Weights = new MultiHeadWeights(
            Kernel("query_kernel", [QueryFeatures, numHeads, keyDim]), Bias("query_bias", [numHeads, keyDim]),
            Kernel("key_kernel", [KeyFeatures, numHeads, keyDim]), Bias("key_bias", [numHeads, keyDim]),
            Kernel("value_kernel", [ValueFeatures, numHeads, ValueDim]), Bias("value_bias", [numHeads, ValueDim]),
            Kernel("output_kernel", [numHeads, ValueDim, OutputFeatures]), Bias("output_bias", [OutputFeatures]));
        ActivityRegularizer = activityRegularizer;
    }

    /// <summary>Keras's Glorot-uniform for an EinsumDense kernel [a, b, c]: fans b·a and c·a (its compute_fans).</summary>
    private static Tensor Glorot(Generator g, int[] shape) => Init.GlorotUniform(g, shape, shape[0] * shape[1], shape[0] * shape[2]);

    public int NumHeads { get; }
    public int KeyDim { get; }
    public int ValueDim { get; }
    public float Dropout { get; }
    public int QueryFeatures { get; }
    public int KeyFeatures { get; }
    public int ValueFeatures { get; }
    public int OutputFeatures { get; }
    public MultiHeadWeights Weights { get; }

    /// <summary>Self-attention: query, key and value are all <paramref name="x"/>.</summary>
    public override Tensor Forward(Tensor x) => Attend(x, x, x, null, false, null, null, null).Output;   // Call records the activity penalty

    /// <summary>The attention output [B, Tq, outputShape].</summary>
    public Tensor Forward(Tensor query, Tensor value, Tensor? key = null, Tensor? attentionMask = null, bool useCausalMask = false,
        Tensor? queryMask = null, Tensor? valueMask = null, Tensor? keyMask = null)
        => ForwardWithScores(query, value, key, attentionMask, useCausalMask, queryMask, valueMask, keyMask).Output;

    /// <summary>The output and the attention scores [B, heads, Tq, Tv] after the masked softmax, before dropout (return_attention_scores).</summary>
    public (Tensor Output, Tensor Scores) ForwardWithScores(Tensor query, Tensor value, Tensor? key = null, Tensor? attentionMask = null,
        bool useCausalMask = false, Tensor? queryMask = null, Tensor? valueMask = null, Tensor? keyMask = null)
    {
        BeginCall();
        try
        {
            var (output, scores) = Attend(query, value, key ?? value, attentionMask, useCausalMask, queryMask, valueMask, keyMask);
            return (RecordActivity(output), scores);
        }
        finally { EndCall(); }
    }

    private (Tensor Output, Tensor Scores) Attend(Tensor query, Tensor value, Tensor key, Tensor? attentionMask,
        bool useCausalMask, Tensor? queryMask, Tensor? valueMask, Tensor? keyMask)
    {
        Check(query, value, key, attentionMask, queryMask, valueMask, keyMask);
        // Keras's _compute_attention_mask: every mask given, combined with a logical and, as [B, Tq, Tv] (or a broadcast of it).
        var mask = AttentionMasks.And(attentionMask, queryMask?.Unsqueeze(2));
        mask = AttentionMasks.And(mask, valueMask?.Unsqueeze(1));
        mask = AttentionMasks.And(mask, keyMask?.Unsqueeze(1));
        if (useCausalMask) mask = AttentionMasks.And(mask, AttentionMasks.Causal(ref _causal, query.Shape[1], value.Shape[1], query.Device));
        return Compute(query, value, key, Weights, NumHeads, mask, Dropout, _generator, Training);
    }

    /// <summary>
    /// The block as a function of its inputs and weights (PyTorch's F.multi_head_attention_forward, in Keras's layout):
    /// output [B, Tq, Dout] and scores [B, heads, Tq, Tv]. <paramref name="mask"/> broadcasts to [B, Tq, Tv] (1 = may attend).
    /// </summary>
    public static (Tensor Output, Tensor Scores) Compute(Tensor query, Tensor value, Tensor key, in MultiHeadWeights w, int heads,
        Tensor? mask = null, float dropout = 0, Generator? generator = null, bool training = false)
    {
        int batch = query.Shape[0], tq = query.Shape[1], tv = value.Shape[1];
        int keyDim = w.QueryKernel.Shape[2], valueDim = w.ValueKernel.Shape[2], outFeatures = w.OutputKernel.Shape[2];
        var q = Project(query, w.QueryKernel, w.QueryBias, heads, keyDim) * (1f / MathF.Sqrt(keyDim));   // [B·H, Tq, dk]
        var k = Project(key, w.KeyKernel, w.KeyBias, heads, keyDim);                                     // [B·H, Tv, dk]
        var v = Project(value, w.ValueKernel, w.ValueBias, heads, valueDim);                             // [B·H, Tv, dv]
        var scores = Tensor.MatMul(q, k, false, true).Reshape(batch, heads, tq, tv);
        if (mask is not null)
        {
            // Keras's masked Softmax: masked scores become -1e9, and the weights are multiplied by the mask, so that a
            // row with nothing to attend to gives zeros rather than a uniform average.
            var m = mask.Rank == 2 ? mask.Unsqueeze(0).Unsqueeze(1) : mask.Unsqueeze(1);
            scores = Tensor.Where(m, scores, NegativeLarge(query.Device)).Softmax(-1) * m;
        }
        else scores = scores.Softmax(-1);
        var used = training && dropout > 0
            ? scores.Dropout(dropout, generator ?? throw new ArgumentException("MultiHeadAttention.Compute: dropout in training needs a generator."))
            : scores;
        var context = Tensor.MatMul(used.Reshape(batch * heads, tq, tv), v)      // [B·H, Tq, dv]
            .Reshape(batch, heads, tq, valueDim).Permute(SwapStepsAndHeads)            // [B, Tq, H, dv]
            .Reshape(batch * tq, heads * valueDim);
        var output = Tensor.MatMul(context, w.OutputKernel.Reshape(heads * valueDim, outFeatures));
        if (w.OutputBias is not null) output = output + w.OutputBias;
        return (output.Reshape(batch, tq, outFeatures), scores);
    }

    // A field, not a constant list: Debug builds allocate a constant collection expression on every call.
    private static readonly int[] SwapStepsAndHeads = [0, 2, 1, 3];

    /// <summary>x [B, T, D] through an EinsumDense kernel [D, H, d] (+ bias [H, d]), rearranged to [B·H, T, d] for the batched products.</summary>
    private static Tensor Project(Tensor x, Tensor kernel, Tensor? bias, int heads, int dim)
    {
        int batch = x.Shape[0], steps = x.Shape[1], features = x.Shape[2];
        var y = Tensor.MatMul(x.Reshape(batch * steps, features), kernel.Reshape(features, heads * dim));
        if (bias is not null) y = y + bias.Reshape(heads * dim);
        return y.Reshape(batch, steps, heads, dim).Permute(SwapStepsAndHeads).Reshape(batch * heads, steps, dim);
    }

    [ThreadStatic] private static Tensor? t_cpuNegativeLarge;

    /// <summary>-1e9 as a rank-0 tensor (Keras's large negative number for float32); the CPU one made once per thread.</summary>
    private static Tensor NegativeLarge(Device device)
    {
        if (device != Device.Cpu) return Tensor.Scalar(-1e9f, device);
        if (t_cpuNegativeLarge is null)
            using (TensorScope.Suspend()) t_cpuNegativeLarge = Tensor.Scalar(-1e9f);
        return t_cpuNegativeLarge;
    }

    /// <summary>Keras's call on a list: [query, value] or [query, value, key], masks [queryMask, valueMask, keyMask].</summary>
    public Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        if (inputs.Count is < 2 or > 3)
            throw new ArgumentException($"MultiHeadAttention: call with [query, value] or [query, value, key], got {inputs.Count} inputs.");
        return Forward(inputs[0], inputs[1], inputs.Count == 3 ? inputs[2] : null,
            queryMask: AttentionMasks.At(masks, 0), valueMask: AttentionMasks.At(masks, 1), keyMask: AttentionMasks.At(masks, 2));
    }

    /// <summary>The query's mask passes on (Keras's MultiHeadAttention keeps the query mask on its output).</summary>
    public Tensor? ComputeMask(IReadOnlyList<Tensor?>? masks) => AttentionMasks.At(masks, 0);

    private void Check(Tensor query, Tensor value, Tensor key, Tensor? attentionMask, Tensor? queryMask, Tensor? valueMask, Tensor? keyMask)
    {
        // The name is formatted only for an error: Describe() builds a string, and this runs in every step.
        if (query.Rank != 3 || value.Rank != 3 || key.Rank != 3)
            throw new ArgumentException($"{Describe()}: query, value and key must be [batch, steps, features], got {ShapeUtil.Format(query.Shape)}, {ShapeUtil.Format(value.Shape)}, {ShapeUtil.Format(key.Shape)}.");
        if (query.Shape[2] != QueryFeatures || value.Shape[2] != ValueFeatures || key.Shape[2] != KeyFeatures)
            throw new ArgumentException($"{Describe()}: expected features query {QueryFeatures}, value {ValueFeatures}, key {KeyFeatures}; got {ShapeUtil.Format(query.Shape)}, {ShapeUtil.Format(value.Shape)}, {ShapeUtil.Format(key.Shape)}.");
        int batch = query.Shape[0], tq = query.Shape[1], tv = value.Shape[1];
        if (value.Shape[0] != batch || key.Shape[0] != batch || key.Shape[1] != tv)
            throw new ArgumentException($"{Describe()}: value {ShapeUtil.Format(value.Shape)} and key {ShapeUtil.Format(key.Shape)} must share the query's batch ({batch}) and each other's steps.");
        if (attentionMask is not null && (attentionMask.Rank != 3 || attentionMask.Shape[0] != batch || attentionMask.Shape[1] != tq || attentionMask.Shape[2] != tv))
            throw new ArgumentException($"{Describe()}: the attention mask must be [{batch}, {tq}, {tv}] (batch, query steps, value steps), got {ShapeUtil.Format(attentionMask.Shape)}.");
        AttentionMasks.CheckSequenceMask(this, "the query mask", queryMask, batch, tq, query.Device);
        AttentionMasks.CheckSequenceMask(this, "the value mask", valueMask, batch, tv, query.Device);
        AttentionMasks.CheckSequenceMask(this, "the key mask", keyMask, batch, tv, query.Device);
    }

    public override string Describe() => $"MultiHeadAttention(heads={NumHeads}, keyDim={KeyDim}{(ValueDim != KeyDim ? $", valueDim={ValueDim}" : "")}{(Dropout > 0 ? $", dropout={Dropout}" : "")})";
}
