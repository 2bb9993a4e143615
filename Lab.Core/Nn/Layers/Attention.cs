namespace Lab.Core.Nn;

/// <summary>
/// Keras's dense attention layers (Attention, AdditiveAttention): scores between each query step and each key step,
/// a softmax over the key steps, and the weighted sum of the values. Call with a query [B, Tq, D], a value [B, Tv, Dv]
/// and optionally a key [B, Tv, D] (the value by default). Masks are [B, T] floats, 1 = keep, 0 = masked: a masked value
/// step gets 1e9 subtracted from its scores before the softmax; a masked query step's output is zeroed. The causal mask
/// lets query step i see value steps j &lt;= i only. Dropout acts on the attention weights in training.
/// </summary>
public abstract class DenseAttention : Module, IMultiInputModule
{
    private readonly Generator _generator;
    private Tensor? _causal;

    protected DenseAttention(float dropout, Generator? generator)
    {
        if (!(dropout is >= 0 and < 1)) throw new ArgumentException($"{GetType().Name}: dropout must be in [0, 1), got {dropout}.");
        Dropout = dropout;
        _generator = generator ?? Init.Default.Fork();
    }

    public float Dropout { get; }

    /// <summary>The scores [B, Tq, Tv] between query and key (before masking and softmax).</summary>
    protected abstract Tensor Scores(Tensor query, Tensor key);

    /// <summary>The attention output [B, Tq, Dv].</summary>
    public Tensor Forward(Tensor query, Tensor value, Tensor? key = null, Tensor? queryMask = null, Tensor? valueMask = null, bool useCausalMask = false)
        => ForwardWithScores(query, value, key, queryMask, valueMask, useCausalMask).Output;

    /// <summary>
    /// The output [B, Tq, Dv] and the attention scores [B, Tq, Tv] after masking and softmax, before dropout
    /// (Keras's return_attention_scores=True).
    /// </summary>
    public (Tensor Output, Tensor Scores) ForwardWithScores(Tensor query, Tensor value, Tensor? key = null,
        Tensor? queryMask = null, Tensor? valueMask = null, bool useCausalMask = false)
    {
        BeginCall();
        try
        {
            key ??= value;
            Check(query, value, key, queryMask, valueMask);
            var scores = Scores(query, key);
            Tensor? scoresMask = valueMask?.Unsqueeze(1);
            if (useCausalMask) scoresMask = AttentionMasks.And(scoresMask, AttentionMasks.Causal(ref _causal, query.Shape[1], key.Shape[1], query.Device));
            var (output, weights) = ApplyScores(scores, value, scoresMask, queryMask, Dropout, _generator, Training);
            return (RecordActivity(output), weights);
        }
        finally { EndCall(); }
    }

    /// <summary>
    /// Keras's _apply_scores and query masking: scores - 1e9 (1 - mask), a softmax over the last axis, dropout on the
    /// weights in training, the weighted values, and the query mask on the result. Returns the output and the weights
    /// before dropout. <paramref name="scoresMask"/> broadcasts to the scores ([B, 1, Tv], [Tq, Tv], [B, Tq, Tv]).
    /// </summary>
    public static (Tensor Output, Tensor Weights) ApplyScores(Tensor scores, Tensor value, Tensor? scoresMask, Tensor? queryMask,
        float dropout = 0, Generator? generator = null, bool training = false)
    {
        if (scoresMask is not null) scores = scores - (1f - scoresMask) * 1e9f;
        var weights = scores.Softmax(-1);
        var used = training && dropout > 0
            ? weights.Dropout(dropout, generator ?? throw new ArgumentException("ApplyScores: dropout in training needs a generator."))
            : weights;
        var output = Tensor.MatMul(used, value);
        if (queryMask is not null) output = output * queryMask.Unsqueeze(2);
        return (output, weights);
    }

    /// <summary>Keras's call on a list: [query, value] or [query, value, key], masks [queryMask, valueMask].</summary>
    public Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        if (inputs.Count is < 2 or > 3)
            throw new ArgumentException($"{GetType().Name}: call with [query, value] or [query, value, key], got {inputs.Count} inputs.");
        return Forward(inputs[0], inputs[1], inputs.Count == 3 ? inputs[2] : null, AttentionMasks.At(masks, 0), AttentionMasks.At(masks, 1));
    }

    /// <summary>The query's mask passes on (Keras's compute_mask).</summary>
    public Tensor? ComputeMask(IReadOnlyList<Tensor?>? masks) => AttentionMasks.At(masks, 0);

    private void Check(Tensor query, Tensor value, Tensor key, Tensor? queryMask, Tensor? valueMask)
    {
        string name = GetType().Name;
        if (query.Rank != 3 || value.Rank != 3 || key.Rank != 3)
            throw new ArgumentException($"{name}: query, value and key must be [batch, steps, features], got {ShapeUtil.Format(query.Shape)}, {ShapeUtil.Format(value.Shape)}, {ShapeUtil.Format(key.Shape)}.");
        if (value.Shape[0] != query.Shape[0] || key.Shape[0] != query.Shape[0])
            throw new ArgumentException($"{name}: batch sizes differ: query {ShapeUtil.Format(query.Shape)}, value {ShapeUtil.Format(value.Shape)}, key {ShapeUtil.Format(key.Shape)}.");
        if (key.Shape[1] != value.Shape[1])
            throw new ArgumentException($"{name}: key {ShapeUtil.Format(key.Shape)} and value {ShapeUtil.Format(value.Shape)} must have the same number of steps.");
        if (key.Shape[2] != query.Shape[2])
            throw new ArgumentException($"{name}: query {ShapeUtil.Format(query.Shape)} and key {ShapeUtil.Format(key.Shape)} must have the same feature size.");
        AttentionMasks.CheckSequenceMask(this, "the query mask", queryMask, query.Shape[0], query.Shape[1], query.Device);
        AttentionMasks.CheckSequenceMask(this, "the value mask", valueMask, value.Shape[0], value.Shape[1], query.Device);
    }
}

/// <summary>
/// Keras's Attention (Luong-style): scores = query · keyᵀ ("dot"), times a learned scalar scale (initially 1) with
/// <c>useScale</c>; or, with <c>scoreMode: "concat"</c>, scores = w · sum(tanh(scale (query + key))) over features,
/// w a learned scalar (initially 1). See <see cref="DenseAttention"/> for the call and the masks.
/// </summary>
public sealed class Attention : DenseAttention
{
    public Attention(bool useScale = false, string scoreMode = "dot", float dropout = 0, Generator? generator = null)
        : base(dropout, generator)
    {
        if (scoreMode is not ("dot" or "concat"))
            throw new ArgumentException($"Attention: scoreMode must be \"dot\" or \"concat\", got \"{scoreMode}\".");
        ScoreMode = scoreMode;
        if (useScale) Scale = RegisterParameter("scale", Tensor.Ones());
        if (scoreMode == "concat") ConcatScoreWeight = RegisterParameter("concat_score_weight", Tensor.Ones());
    }

    public string ScoreMode { get; }
    /// <summary>The learned scalar scale (rank 0), with useScale.</summary>
    public Tensor? Scale { get; }
    /// <summary>The learned scalar weight of the concat scores (rank 0).</summary>
    public Tensor? ConcatScoreWeight { get; }

    protected override Tensor Scores(Tensor query, Tensor key) => ScoreMode == "dot"
        ? DotScores(query, key, Scale)
        : ConcatScores(query, key, Scale, ConcatScoreWeight!);

    /// <summary>query · keyᵀ [B, Tq, Tv], times <paramref name="scale"/> when given.</summary>
    public static Tensor DotScores(Tensor query, Tensor key, Tensor? scale)
    {
        var scores = Tensor.MatMul(query, key, false, true);
        return scale is null ? scores : scores * scale;
    }

    /// <summary>weight · sum over features of tanh(scale (query_i + key_j)), [B, Tq, Tv].</summary>
    public static Tensor ConcatScores(Tensor query, Tensor key, Tensor? scale, Tensor weight)
    {
        var sum = query.Unsqueeze(2) + key.Unsqueeze(1);   // [B, Tq, Tv, D]
        if (scale is not null) sum = sum * scale;
        return sum.Tanh().Sum(-1) * weight;
    }

    public override string Describe() => $"Attention({ScoreMode}{(Scale is null ? "" : ", scaled")}{(Dropout > 0 ? $", dropout={Dropout}" : "")})";
}

/// <summary>
/// Keras's AdditiveAttention (Bahdanau-style): scores = sum over features of scale ⊙ tanh(query_i + key_j), with a
/// learned per-feature scale (Glorot-uniform, of the query's feature size) when <c>useScale</c> (the default).
/// See <see cref="DenseAttention"/> for the call and the masks.
/// </summary>
public sealed class AdditiveAttention : DenseAttention
{
    /// <param name="features">The query's (and key's) feature size: the size of the learned scale.</param>
    public AdditiveAttention(int features, bool useScale = true, float dropout = 0, Generator? generator = null)
        : base(dropout, generator)
    {
        if (features < 1) throw new ArgumentException($"AdditiveAttention: feature size must be positive, got {features}.");
        Features = features;
        // Keras's Glorot-uniform on a vector: fan-in = fan-out = its length.
        if (useScale) Scale = RegisterParameter("scale", Init.GlorotUniform(generator ?? Init.Default, [features], features, features));
    }

    public int Features { get; }
    /// <summary>The learned per-feature scale [features], with useScale.</summary>
    public Tensor? Scale { get; }

    protected override Tensor Scores(Tensor query, Tensor key)
    {
        if (query.Shape[2] != Features)
            throw new ArgumentException($"AdditiveAttention({Features}): expected query features {Features}, got {ShapeUtil.Format(query.Shape)}.");
        return AdditiveScores(query, key, Scale);
    }

    /// <summary>sum over features of scale ⊙ tanh(query_i + key_j), [B, Tq, Tv] (scale 1 when null).</summary>
    public static Tensor AdditiveScores(Tensor query, Tensor key, Tensor? scale)
    {
        var t = (query.Unsqueeze(2) + key.Unsqueeze(1)).Tanh();   // [B, Tq, Tv, D]
        return (scale is null ? t : t * scale).Sum(-1);
    }

    public override string Describe() => $"AdditiveAttention({Features}{(Scale is null ? "" : ", scaled")}{(Dropout > 0 ? $", dropout={Dropout}" : "")})";
}
