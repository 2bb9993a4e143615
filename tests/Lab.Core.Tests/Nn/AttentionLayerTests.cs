using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

/// <summary>The attention layers through their Keras-style calls: values against the double-precision loops, masks, errors, training.</summary>
public class AttentionLayerTests
{
    private static Tensor RandN(ulong seed, params int[] shape) => Tensor.RandN(new Generator(seed), shape);
    private static Tensor Mask(float[] values, params int[] shape) => Tensor.FromArray(values, shape);
    private static double[] D(float[] v) => Array.ConvertAll(v, x => (double)x);

    private static readonly float[] QueryMask = [1, 0, 1, 1, 1, 0];            // [2, 3]
    private static readonly float[] ValueMask = [1, 1, 0, 1, 1, 0, 1, 0];      // [2, 4]; step 0 kept, so no causal row is fully masked

    [Fact]
    public void AttentionMatchesKerasWithMasksCausalAndScale()
    {
        var layer = new Attention(useScale: true);
        using (new NoGrad()) layer.Scale!.CopyFrom(Tensor.Scalar(0.7f));
        var (q, v, k) = (RandN(1, 2, 3, 5), RandN(2, 2, 4, 3), RandN(3, 2, 4, 5));
        var (output, scores) = layer.ForwardWithScores(q, v, k, Mask(QueryMask, 2, 3), Mask(ValueMask, 2, 4), useCausalMask: true);
        var refScores = AttentionReference.Scores("dot", R.Of(q), R.Of(k), R.Of(Tensor.Scalar(0.7f)));
        var (refOut, refWeights) = AttentionReference.ApplyScores(refScores, R.Of(v), D(QueryMask), D(ValueMask), causal: true);
        Numeric.AssertClose(refOut.Data, output.ToArray(), 1e-5, "output");
        Numeric.AssertClose(refWeights.Data, scores.ToArray(), 1e-5, "scores");
        // A masked query's output is zero; masked and future value steps get no weight.
        Assert.All(output.ToArray().AsSpan(3, 3).ToArray(), x => Assert.Equal(0f, x));   // batch 0, query 1 of 3, each of Dv = 3
        Assert.Equal(0f, scores[0, 2, 2]);
        Assert.Equal(0f, scores[1, 0, 1]);
        Assert.Equal(1f, scores[0, 0, 0], 6);
    }

    [Fact]
    public void KeyDefaultsToValueAndTheListCallMatches()
    {
        var layer = new Attention();
        var (q, v) = (RandN(4, 2, 3, 4), RandN(5, 2, 6, 4));
        var direct = layer.Forward(q, v, v).ToArray();
        Assert.Equal(direct, layer.Forward(q, v).ToArray());
        Assert.Equal(direct, layer.Forward([q, v]).ToArray());
        Assert.Equal(layer.Forward(q, v, null, Mask(QueryMask, 2, 3)).ToArray(), layer.Forward([q, v], [Mask(QueryMask, 2, 3), null]).ToArray());
        Assert.Same(QueryMaskTensor, layer.ComputeMask([QueryMaskTensor, null]));
    }

    private static readonly Tensor QueryMaskTensor = Mask(QueryMask, 2, 3);

    [Fact]
    public void ConcatScoreModeHasItsScalarWeights()
    {
        var layer = new Attention(useScale: true, scoreMode: "concat");
        Assert.Equal(["scale", "concat_score_weight"], layer.NamedParameters().Select(p => p.Name));
        using (new NoGrad()) { layer.Scale!.CopyFrom(Tensor.Scalar(0.6f)); layer.ConcatScoreWeight!.CopyFrom(Tensor.Scalar(1.5f)); }
        var (q, v, k) = (RandN(6, 1, 2, 3), RandN(7, 1, 4, 2), RandN(8, 1, 4, 3));
        var expected = AttentionReference.ApplyScores(
            AttentionReference.Scores("concat", R.Of(q), R.Of(k), R.Of(Tensor.Scalar(0.6f)), R.Of(Tensor.Scalar(1.5f))), R.Of(v), null, null, false).Output;
        Numeric.AssertClose(expected.Data, layer.Forward(q, v, k).ToArray(), 1e-5, "concat attention");
    }

    [Fact]
    public void AdditiveAttentionMatchesKeras()
    {
        var layer = new AdditiveAttention(4, generator: new Generator(3));
        Assert.Equal([4], layer.Scale!.ShapeArray());
        float limit = MathF.Sqrt(6f / 8);
        Assert.All(layer.Scale.ToArray(), s => Assert.InRange(s, -limit, limit));
        var (q, v, k) = (RandN(8, 2, 3, 4), RandN(9, 2, 4, 2), RandN(10, 2, 4, 4));
        var (output, scores) = layer.ForwardWithScores(q, v, k, null, Mask(ValueMask, 2, 4));
        var (refOut, refWeights) = AttentionReference.ApplyScores(AttentionReference.Scores("additive", R.Of(q), R.Of(k), R.Of(layer.Scale)), R.Of(v), null, D(ValueMask), false);
        Numeric.AssertClose(refOut.Data, output.ToArray(), 1e-5, "output");
        Numeric.AssertClose(refWeights.Data, scores.ToArray(), 1e-5, "scores");
        Assert.Empty(new AdditiveAttention(4, useScale: false).Parameters());
    }

    [Fact]
    public void AFullyMaskedValueRowAttendsUniformlyAsKeras()
    {
        // Keras's Attention subtracts 1e9 from every score of the row: the softmax is then uniform.
        var (q, v) = (RandN(11, 1, 2, 3), RandN(12, 1, 3, 3));
        var (_, scores) = new Attention().ForwardWithScores(q, v, valueMask: Tensor.Zeros(1, 3));
        Assert.All(scores.ToArray(), s => Assert.Equal(1 / 3f, s, 5));
    }

    [Fact]
    public void DropoutActsOnlyInTraining()
    {
        var layer = new Attention(dropout: 0.5f, generator: new Generator(2));
        var (q, v) = (RandN(13, 2, 5, 4), RandN(14, 2, 6, 4));
        var eval = new Attention().Forward(q, v).ToArray();
        var (trained, weights) = layer.ForwardWithScores(q, v);
        Assert.NotEqual(eval, trained.ToArray());
        Numeric.AssertClose(R.Of(new Attention().ForwardWithScores(q, v).Scores).Data, weights.ToArray(), 1e-6, "weights before dropout");
        layer.Eval();
        Assert.Equal(eval, layer.Forward(q, v).ToArray());
    }

    [Fact]
    public void BadInputsNameTheProblem()
    {
        var layer = new Attention();
        var q = RandN(1, 2, 3, 4);
        Assert.Contains("feature size", Assert.Throws<ArgumentException>(() => layer.Forward(q, RandN(2, 2, 5, 3))).Message);
        Assert.Contains("[2, 5]", Assert.Throws<ArgumentException>(() => layer.Forward(q, RandN(2, 2, 5, 4), valueMask: Tensor.Ones(2, 4))).Message);
        Assert.Contains("[query, value]", Assert.Throws<ArgumentException>(() => layer.Forward([q])).Message);
        Assert.Contains("scoreMode", Assert.Throws<ArgumentException>(() => new Attention(scoreMode: "general")).Message);
        Assert.Contains("batch", Assert.Throws<ArgumentException>(() => layer.Forward(q, RandN(2, 3, 5, 4))).Message);
    }

    // ---- MultiHeadAttention ----

    private static MultiHeadAttention Mha(int heads = 2, int keyDim = 3, int? valueDim = 2, int features = 4, int? valueFeatures = 5, int? keyFeatures = 6, bool useBias = true, float dropout = 0)
    {
        var layer = new MultiHeadAttention(heads, keyDim, valueDim, dropout, useBias, queryFeatures: features, valueFeatures: valueFeatures, keyFeatures: keyFeatures, generator: new Generator(21));
        // Non-zero biases, so that the test sees each one.
        using (new NoGrad())
            foreach (var (name, p) in layer.NamedParameters().Where(p => p.Name.EndsWith("bias")))
                p.CopyFrom(Tensor.RandN(new Generator((ulong)name.Length), p.ShapeArray()));
        return layer;
    }

    private static (R, R) Reference(MultiHeadAttention layer, Tensor q, Tensor v, Tensor k, Func<int, int, int, bool>? allowed)
    {
        var w = layer.Weights;
        R? Of(Tensor? t) => t is null ? null : R.Of(t);
        return AttentionReference.MultiHead(R.Of(q), R.Of(v), R.Of(k), R.Of(w.QueryKernel), Of(w.QueryBias), R.Of(w.KeyKernel), Of(w.KeyBias),
            R.Of(w.ValueKernel), Of(w.ValueBias), R.Of(w.OutputKernel), Of(w.OutputBias), allowed);
    }

    [Fact]
    public void MultiHeadAttentionHasKerasLayoutAndValues()
    {
        var layer = Mha();
        Assert.Equal(
            ["query_kernel:4,2,3", "query_bias:2,3", "key_kernel:6,2,3", "key_bias:2,3", "value_kernel:5,2,2", "value_bias:2,2", "output_kernel:2,2,4", "output_bias:4"],
            layer.NamedParameters().Select(p => $"{p.Name}:{string.Join(",", p.Tensor.ShapeArray())}"));
        var (q, v, k) = (RandN(31, 2, 3, 4), RandN(32, 2, 4, 5), RandN(33, 2, 4, 6));
        var (output, scores) = layer.ForwardWithScores(q, v, k);
        var (refOut, refScores) = Reference(layer, q, v, k, null);
        Assert.Equal([2, 3, 4], output.ShapeArray());
        Assert.Equal([2, 2, 3, 4], scores.ShapeArray());
        Numeric.AssertClose(refOut.Data, output.ToArray(), 1e-5, "output");
        Numeric.AssertClose(refScores.Data, scores.ToArray(), 1e-5, "scores");
    }

    [Fact]
    public void MultiHeadMasksCombineAsKeras()
    {
        var layer = Mha();
        var (q, v, k) = (RandN(34, 2, 3, 4), RandN(35, 2, 4, 5), RandN(36, 2, 4, 6));
        var attention = Mask([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1], 2, 3, 4);
        var att = attention.ToArray();
        bool Allowed(int n, int i, int j) => att[(n * 3 + i) * 4 + j] != 0 && QueryMask[n * 3 + i] != 0 && ValueMask[n * 4 + j] != 0 && i >= j;
        var (output, scores) = layer.ForwardWithScores(q, v, k, attention, useCausalMask: true, queryMask: Mask(QueryMask, 2, 3), valueMask: Mask(ValueMask, 2, 4));
        var (refOut, refScores) = Reference(layer, q, v, k, Allowed);
        Numeric.AssertClose(refOut.Data, output.ToArray(), 1e-5, "output");
        Numeric.AssertClose(refScores.Data, scores.ToArray(), 1e-5, "scores");
        // A masked query row attends nowhere (Keras's masked softmax zeroes it): its output is the output bias.
        Assert.All(Enumerable.Range(0, 8), i => Assert.Equal(0f, scores[0, i / 4, 1, i % 4]));
        Assert.Equal(layer.Weights.OutputBias!.ToArray(), output.Narrow(0, 0, 1).Narrow(1, 1, 1).Reshape(4).ToArray());
    }

    [Fact]
    public void SelfAttentionThroughCallAndTheListCall()
    {
        var layer = Mha(heads: 4, keyDim: 2, valueDim: null, features: 8, valueFeatures: null, keyFeatures: null, useBias: false);
        Assert.Equal(4 * (8 * 4 * 2) , layer.ParameterCount());
        var x = RandN(37, 3, 5, 8);
        var viaCall = layer.Call(x).ToArray();
        Numeric.AssertClose(Reference(layer, x, x, x, null).Item1.Data, viaCall, 1e-5, "self-attention");
        Assert.Equal(viaCall, layer.Forward([x, x]).ToArray());
        Assert.Equal(viaCall, layer.Forward([x, x, x]).ToArray());
        var keyMask = Mask([1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0], 3, 5);
        bool Allowed(int n, int i, int j) => keyMask[n, j] != 0;
        Numeric.AssertClose(Reference(layer, x, x, x, Allowed).Item1.Data, layer.Forward([x, x, x], [null, null, keyMask]).ToArray(), 1e-5, "key mask");
    }

    [Fact]
    public void MultiHeadOutputShapeAndErrors()
    {
        var layer = new MultiHeadAttention(2, 4, outputShape: 7, queryFeatures: 5, generator: new Generator(1));
        Assert.Equal([2, 3, 7], layer.Forward(RandN(1, 2, 3, 5), RandN(2, 2, 6, 5)).ShapeArray());
        Assert.Contains("queryFeatures", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(2, 4)).Message);
        Assert.Contains("expected features", Assert.Throws<ArgumentException>(() => layer.Forward(RandN(1, 2, 3, 4), RandN(2, 2, 6, 5))).Message);
        Assert.Contains("[2, 3, 6]", Assert.Throws<ArgumentException>(() => layer.Forward(RandN(1, 2, 3, 5), RandN(2, 2, 6, 5), attentionMask: Tensor.Ones(2, 6, 3))).Message);
        Assert.Contains("key mask", Assert.Throws<ArgumentException>(() => layer.Forward(RandN(1, 2, 3, 5), RandN(2, 2, 6, 5), keyMask: Tensor.Ones(2, 3))).Message);
        Assert.Contains("dropout", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(2, 4, dropout: 1, queryFeatures: 5)).Message);
    }

    /// <summary>A tiny sequence model (attention, layer norm, a dense head) learns to output each sequence's mean feature.</summary>
    [Fact]
    public void ATinyTransformerBlockTrains()
    {
        var model = new Block(new Generator(3));
        var opt = new Adam(model.Parameters(), lr: 0.01f);
        var g = new Generator(4);
        var x = Tensor.RandN(g, [16, 6, 8]);
        var target = x.Mean(1, keepDim: true).Expand(16, 6, 8).Detach();
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var _ = TensorScope.Begin();
            opt.ZeroGrad();
            var loss = Losses.Mse(model.Call(x), target);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < 0.3f * first, $"loss {first} -> {last}");
    }

    private sealed class Block : Module
    {
        private readonly MultiHeadAttention _attention;
        private readonly LayerNormalization _norm;
        private readonly Linear _dense;

        public Block(Generator g)
        {
            _attention = RegisterModule("attention", new MultiHeadAttention(2, 4, queryFeatures: 8, generator: g));
            _norm = RegisterModule("norm", new LayerNormalization(8));
            _dense = RegisterModule("dense", new Linear(8, 8, generator: g));
        }

        public override Tensor Forward(Tensor x) => _dense.Call(_norm.Call(x + _attention.Forward(x, x, useCausalMask: false)));
    }

    [Fact]
    public void AnAttentionTrainingStepInsideARecyclingScopeAllocatesNothing()
    {
        if (!TensorScope.RecycleObjects) return;   // GENLAB_SCOPE_CHECK=1 trades this for stale-use checks
        var mha = new MultiHeadAttention(2, 4, dropout: 0.1f, queryFeatures: 8, generator: new Generator(1));
        var additive = new AdditiveAttention(8, generator: new Generator(2));
        var norm = new LayerNormalization(8);
        var dense = new Linear(8, 8, generator: new Generator(3), kernelRegularizer: Regularizers.L2(1e-3f), activityRegularizer: Regularizers.L1(1e-4f));
        var parameters = mha.Parameters().Concat(additive.Parameters()).Concat(norm.Parameters()).Concat(dense.Parameters()).ToList();
        var opt = new Adam(parameters);
        var x = Tensor.RandN(new Generator(5), [4, 6, 8]);
        var mask = Tensor.FromArray([1f, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0], [4, 6]);
        long bytes = AllocatedBytes(() =>
        {
            using var _ = TensorScope.Begin();
            opt.ZeroGrad();
            var h = norm.Call(x + mha.Forward(x, x, useCausalMask: true, queryMask: mask, valueMask: mask));
            var a = additive.Forward(h, h, valueMask: mask, useCausalMask: true);
            var y = dense.Call(a);
            var loss = y.Square().Mean() + dense.RegularizationLoss()!;
            loss.Backward();
            opt.Step();
        });
        Assert.True(bytes == 0, $"{bytes / 10.0:F1} bytes per step");
    }

    /// <summary>Managed bytes over ten steps after warm-up (up to four rounds: a one-off growth ends, a per-step allocation does not).</summary>
    private static long AllocatedBytes(Action step)
    {
        for (int i = 0; i < 5; i++) step();
        long bytes = -1;
        for (int round = 0; round < 4 && bytes != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) step();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return bytes;
    }
}
