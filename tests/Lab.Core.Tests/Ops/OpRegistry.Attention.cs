using Lab.Core.Nn;
using Lab.Core.Tests.Nn;

namespace Lab.Core.Tests.Ops;

public static partial class OpRegistry
{
    // Fixed masks (1 = keep) that leave every query row something to attend to, also under the causal mask: a fully
    // masked row's scores all sit at -1e9, where float has no digits left for the scores themselves (tested in the layer tests).
    private static readonly float[] QueryMask23 = [1, 1, 0, 1, 0, 1];
    private static readonly float[] ValueMask25 = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1];
    private static readonly float[] ValueMask24 = [1, 1, 0, 1, 1, 0, 1, 1];

    /// <summary>A constant (a mask) on the device of the case's first input, so the CUDA comparison runs the case on CUDA alone.</summary>
    private static Tensor Const(Tensor like, float[] values, params int[] shape) => Tensor.FromArray(values, shape, like.Device);
    private static double[] D(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>A [Tq, Tv] causal mask: 1 where i &gt;= j.</summary>
    private static float[] CausalMask(int tq, int tv)
    {
        var m = new float[tq * tv];
        for (int i = 0; i < tq; i++) for (int j = 0; j <= Math.Min(i, tv - 1); j++) m[i * tv + j] = 1;
        return m;
    }

    /// <summary>Layer normalisation and the attention layers' computations, with every weight as a differentiated input.</summary>
    private static IEnumerable<OpCase> AttentionAndNormalization()
    {
        yield return new("LayerNormLast", [I(3, 5), I(5), I(5)], t => Tensor.LayerNorm(t[0], [5], t[1], t[2], 1e-3f),
            r => AttentionReference.LayerNorm(r[0], 5, r[1], r[2], 1e-3));
        yield return new("LayerNormTwoAxes", [I(2, 3, 4)], t => Tensor.LayerNorm(t[0], [3, 4]),
            r => AttentionReference.LayerNorm(r[0], 12, null, null, 1e-5));
        yield return new("LayerNormBatch1Scale", [I(1, 7), I(7)], t => Tensor.LayerNorm(t[0], [7], t[1], eps: 1e-3f),
            r => AttentionReference.LayerNorm(r[0], 7, r[1], null, 1e-3));
        yield return new("LayerNormLongRow", [I(2, 70)], t => Tensor.LayerNorm(t[0], [70]),
            r => AttentionReference.LayerNorm(r[0], 70, null, null, 1e-5));

        // Keras's Attention: [query, value, key], dot scores, optional scalar scale, masks, causal mask.
        yield return new("AttentionDot", [I(2, 3, 4), I(2, 5, 3), I(2, 5, 4)],
            t => DenseAttention.ApplyScores(Attention.DotScores(t[0], t[2], null), t[1], null, null).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("dot", r[0], r[2], null), r[1], null, null, false).Output);
        yield return new("AttentionDotScaledMasked", [I(2, 3, 4), I(2, 5, 3), I(2, 5, 4), I()],
            t => DenseAttention.ApplyScores(Attention.DotScores(t[0], t[2], t[3]), t[1], Const(t[0], ValueMask25, 2, 5).Unsqueeze(1), Const(t[0], QueryMask23, 2, 3)).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("dot", r[0], r[2], r[3]), r[1], D(QueryMask23), D(ValueMask25), false).Output);
        yield return new("AttentionCausalWeights", [I(2, 3, 4), I(2, 5, 3), I(2, 5, 4)],
            t => DenseAttention.ApplyScores(Attention.DotScores(t[0], t[2], null), t[1], Const(t[0], ValueMask25, 2, 5).Unsqueeze(1) * Const(t[0], CausalMask(3, 5), 3, 5), null).Weights,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("dot", r[0], r[2], null), r[1], null, D(ValueMask25), true).Weights);
        yield return new("AttentionConcat", [I(2, 3, 4), I(2, 4, 2), I(2, 4, 4), I(), I()],
            t => DenseAttention.ApplyScores(Attention.ConcatScores(t[0], t[2], t[3], t[4]), t[1], null, null).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("concat", r[0], r[2], r[3], r[4]), r[1], null, null, false).Output);
        yield return new("AdditiveAttentionMasked", [I(2, 3, 4), I(2, 5, 3), I(2, 5, 4), I(4)],
            t => DenseAttention.ApplyScores(AdditiveAttention.AdditiveScores(t[0], t[2], t[3]), t[1], Const(t[0], ValueMask25, 2, 5).Unsqueeze(1), Const(t[0], QueryMask23, 2, 3)).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("additive", r[0], r[2], r[3]), r[1], D(QueryMask23), D(ValueMask25), false).Output);
        yield return new("AdditiveAttentionUnscaled", [I(1, 4, 3), I(1, 2, 5)],
            t => DenseAttention.ApplyScores(AdditiveAttention.AdditiveScores(t[0], t[0].Narrow(1, 0, 2), null), t[1], null, null).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("additive", r[0], r[0].Narrow(1, 0, 2), null), r[1], null, null, false).Output);
        // Dropout on the weights with a fixed generator is a fixed mask: the reference replays it.
        yield return new("AttentionDropout", [I(2, 3, 4), I(2, 5, 3), I(2, 5, 4)],
            t => DenseAttention.ApplyScores(Attention.DotScores(t[0], t[2], null), t[1], null, null, 0.3f, new Generator(5), training: true).Output,
            r => AttentionReference.ApplyScores(AttentionReference.Scores("dot", r[0], r[2], null), r[1], null, null, false,
                R.Of(Tensor.Ones(2, 3, 5).Dropout(0.3f, new Generator(5)))).Output);

        // Keras's MultiHeadAttention: heads 2, keyDim 3, valueDim 2, query 4 -> output 4 features, value 5, key 6.
        Input[] mha = [I(2, 3, 4), I(2, 4, 5), I(2, 4, 6), I(4, 2, 3), I(2, 3), I(6, 2, 3), I(2, 3), I(5, 2, 2), I(2, 2), I(2, 2, 4), I(4)];
        static MultiHeadWeights W(Tensor[] t) => new(t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10]);
        static (R, R) Ref(R[] r, Func<int, int, int, bool>? allowed) =>
            AttentionReference.MultiHead(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], allowed);
        yield return new("MultiHeadAttention", mha, t => MultiHeadAttention.Compute(t[0], t[1], t[2], W(t), 2).Output, r => Ref(r, null).Item1);
        // Query, value and causal masks combined (Keras's _compute_attention_mask).
        bool Allowed(int n, int i, int j) => QueryMask23[n * 3 + i] != 0 && ValueMask24[n * 4 + j] != 0 && i >= j;
        Tensor MaskOf(Tensor[] t) => Const(t[0], QueryMask23, 2, 3).Unsqueeze(2) * Const(t[0], ValueMask24, 2, 4).Unsqueeze(1) * Const(t[0], CausalMask(3, 4), 3, 4);
        yield return new("MultiHeadAttentionMasked", mha, t => MultiHeadAttention.Compute(t[0], t[1], t[2], W(t), 2, MaskOf(t)).Output,
            r => Ref(r, Allowed).Item1);
        yield return new("MultiHeadAttentionScores", mha, t => MultiHeadAttention.Compute(t[0], t[1], t[2], W(t), 2, MaskOf(t)).Scores,
            r => Ref(r, Allowed).Item2);
        // Self-attention without biases, four heads of one feature.
        yield return new("MultiHeadSelfAttentionNoBias", [I(2, 3, 4), I(4, 4, 1), I(4, 4, 1), I(4, 4, 1), I(4, 1, 4)],
            t => MultiHeadAttention.Compute(t[0], t[0], t[0], new MultiHeadWeights(t[1], null, t[2], null, t[3], null, t[4], null), 4).Output,
            r => AttentionReference.MultiHead(r[0], r[0], r[0], r[1], null, r[2], null, r[3], null, r[4], null, null).Output);
    }
}
