using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

/// <summary>The attention experiment's model: causal decoding, greedy decoding, masking of the source's padding, the loss.</summary>
public class AttentionTranslatorTests
{
    private const int Vocabulary = 12, S = 7, T = 5, Start = 11;

    private static AttentionTranslator Build(int sourceLength = S, ulong seed = 3) =>
        new(Vocabulary, sourceLength, T, embeddingDim: 6, units: 5, hidden: 8, generator: new Generator(seed));

    // Two sources: 5 characters then padding, and 7 characters.
    private static Tensor Sources() => Tensor.FromArray([3, 1, 4, 1, 5, 0, 0, 2, 7, 1, 8, 2, 8, 1], [2, S]);

    private static Tensor Ids(int[,] ids) => Tensor.FromArray(
        Enumerable.Range(0, ids.Length).Select(i => (float)ids[i / ids.GetLength(1), i % ids.GetLength(1)]).ToArray(), [ids.GetLength(0), ids.GetLength(1)]);

    private static float[] Step(Tensor probabilities, int t) => probabilities.Narrow(1, t, 1).ToArray();

    [Fact]
    public void TheDecoderCannotSeeLaterTargets()
    {
        var model = Build().Model;
        var decoderIn = new[,] { { Start, 2, 3, 4, 5 }, { Start, 6, 7, 8, 9 } };
        var before = model.Predict(Sources(), Ids(decoderIn))[0];
        for (int changed = 1; changed < T; changed++)
        {
            var altered = (int[,])decoderIn.Clone();
            altered[0, changed] = 10;
            altered[1, changed] = 1;
            var after = model.Predict(Sources(), Ids(altered))[0];
            for (int t = 0; t < changed; t++) Assert.Equal(Step(before, t), Step(after, t));   // bit for bit
            Assert.NotEqual(Step(before, changed), Step(after, changed));                        // the input at t does reach t
        }
    }

    [Fact]
    public void GreedyDecodingIsTheArgmaxOfEachStepFedBack()
    {
        var translator = Build();
        var (ids, attention) = translator.Greedy(Sources(), Start, batchSize: 1);
        // The reference feeds the tokens decoded so far and junk (not padding) after them: the decoder is causal, so the
        // junk must not matter, and each step's choice is the argmax of that step's probabilities.
        var junk = new Generator(9);
        var prefix = new int[2, T];
        for (int t = 0; t < T; t++)
        {
            var input = new int[2, T];
            for (int b = 0; b < 2; b++)
                for (int k = 0; k < T; k++) input[b, k] = k == 0 ? Start : k <= t ? prefix[b, k - 1] : 1 + junk.NextInt(Vocabulary - 1);
            var p = Step(translator.Model.Predict(Sources(), Ids(input))[0], t);
            for (int b = 0; b < 2; b++)
            {
                var row = p.AsSpan(b * Vocabulary, Vocabulary).ToArray();
                prefix[b, t] = Array.IndexOf(row, row.Max());
            }
        }
        Assert.Equal(prefix, ids);
        // The attention returned is the full model's on the decoded input.
        var decoderIn = new int[2, T];
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < T; k++) decoderIn[b, k] = k == 0 ? Start : ids[b, k - 1];
        var weights = translator.WithAttention.Predict(Sources(), Ids(decoderIn))[1].ToArray();
        Assert.Equal(weights, attention);
    }

    [Fact]
    public void PaddingGetsNoAttentionAndChangesNothing()
    {
        var sources = Sources();
        var decoderIn = Ids(new[,] { { Start, 2, 3, 4, 5 }, { Start, 6, 7, 8, 9 } });
        var outputs = Build().WithAttention.Predict(sources, decoderIn);
        var weights = outputs[1].ToArray();   // (2, T, S)
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < T; t++)
            {
                var row = weights.AsSpan((b * T + t) * S, S);
                Assert.Equal(1f, row.ToArray().Sum(), 1e-5f);
                if (b == 0) { Assert.Equal(0f, row[5]); Assert.Equal(0f, row[6]); }
                Assert.All(row[..(b == 0 ? 5 : 7)].ToArray(), w => Assert.True(w > 0));
            }
        // The same weights (same seed) on the first source without its padding: the same translation probabilities.
        var trimmed = Build(sourceLength: 5).Model.Predict(sources.Narrow(0, 0, 1).Narrow(1, 0, 5), decoderIn.Narrow(0, 0, 1))[0];
        var padded = outputs[0].Narrow(0, 0, 1);
        var (x, y) = (trimmed.ToArray(), padded.ToArray());
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], y[i], 1e-6f);
    }

    [Fact]
    public void TheLossIsTheMeanCrossEntropyOverEveryCharacter()
    {
        var g = new Generator(4);
        var p = Tensor.Rand(g, [2, 3, 4]) + 0.1f;
        p = p / p.Sum(2, keepDim: true);
        var y = Tensor.FromArray([0, 3, 1, 2, 2, 0], [2, 3]);
        double expected = 0;
        var (pv, yv) = (p.ToArray(), y.ToArray());
        for (int i = 0; i < 6; i++) expected -= Math.Log(pv[i * 4 + (int)yv[i]]);
        Assert.Equal(expected / 6, AttentionTranslator.Loss(p, y).Item(), 1e-5);
    }

    [Fact]
    public void BadSizesAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new AttentionTranslator(1, S, T));
        Assert.Contains("vocabulary", e.Message);
        var g = Assert.Throws<ArgumentException>(() => Build().Greedy(Tensor.Zeros(2, S + 1), Start));
        Assert.Contains($"(batch, {S})", g.Message);
    }
}
