using Lab.Core.Autodiff;
using Lab.Core.Nn;
using static Lab.Core.Nn.Functional;

namespace Lab.Core.Tests.FunctionalModels;

/// <summary>Keras's masks in functional models: from Embedding(maskZero) through recurrent layers, merges and attention.</summary>
public class FunctionalMaskTests
{
    // Two padded sentences ('pre' padding: zeros in front), ids below 50.
    private static Tensor Ids(int steps, int salt) => Tensor.FromArray(
        Enumerable.Range(0, 2 * steps).Select(i => i % steps < (i / steps == 0 ? 2 : 4) ? 0f : 1 + (i * 7 + salt) % 49).ToArray(), [2, steps]);

    [Fact]
    public void AMaskFlowsFromTheEmbeddingThroughTheRecurrentLayersAsInASequential()
    {
        var g = new Generator(3);
        var embedding = new Embedding(50, 6, maskZero: true, generator: g);
        var lstm = new Lstm(6, 5, returnSequences: true, generator: g);
        var gru = new Gru(5, 4, generator: g);
        var input = Input([7]);
        var model = new Model(input, gru.Call(lstm.Call(embedding.Call(input))));
        var ids = Ids(7, 1);
        using var _ = new NoGrad();
        var functional = model.Predict(ids)[0];
        var sequential = new Sequential(embedding, lstm, gru).Call(ids);
        var unmasked = gru.Call(lstm.Call(embedding.Call(ids)));
        Assert.Equal(sequential.ToArray(), functional.ToArray());
        Assert.NotEqual(unmasked.ToArray(), functional.ToArray());   // the padding was skipped, not read
    }

    [Fact]
    public void AttentionGetsBothInputsMasksFromTheirEmbeddings()
    {
        var g = new Generator(5);
        var embedding = new Embedding(50, 8, maskZero: true, generator: g);
        var attention = new Attention();
        var (queryIds, valueIds) = (Input([5]), Input([7]));
        var (query, value) = (embedding.Call(queryIds), embedding.Call(valueIds));
        var model = new Model([queryIds, valueIds], [attention.Call(query, value)]);
        var (q, v) = (Ids(5, 2), Ids(7, 3));
        using var _ = new NoGrad();
        var functional = model.Predict(q, v)[0];
        var expected = attention.Forward(embedding.Call(q), embedding.Call(v), null,
            embedding.ComputeMask(q, null), embedding.ComputeMask(v, null));
        Assert.Equal(expected.ToArray(), functional.ToArray());
        Assert.NotEqual(attention.Forward(embedding.Call(q), embedding.Call(v)).ToArray(), functional.ToArray());
    }

    [Fact]
    public void DotStopsTheMasksAsKerasDoesSoTwoMaskedSequencesOfDifferentLengthsMeet()
    {
        // The notebook's attention scores between two masked sequences of different lengths: the masks [B, 5] and
        // [B, 7] cannot be ANDed, and Keras's Dot passes none on (compute_mask returns None).
        var g = new Generator(7);
        var embedding = new Embedding(50, 6, maskZero: true, generator: g);
        var (lstm1, lstm2) = (new Lstm(6, 4, returnSequences: true, generator: g), new Lstm(6, 4, returnSequences: true, generator: g));
        var (a, b) = (Input([5]), Input([7]));
        var (h1, h2) = (lstm1.Call(embedding.Call(a)), lstm2.Call(embedding.Call(b)));
        var scores = new Dot(axes: 2).Call(h2, h1);                                          // (None, 7, 5)
        var context = new Dot(axes: (2, 1)).Call(new ActivationLayer(Activation.Softmax).Call(scores), h1);
        var joined = new Concatenate().Call(context, h2);
        var model = new Model([a, b], [scores, joined]);
        var (x1, x2) = (Ids(5, 2), Ids(7, 3));
        using var _ = new NoGrad();
        var outputs = model.Predict(x1, x2);
        var (e1, e2) = (lstm1.Call(embedding.Call(x1), embedding.ComputeMask(x1, null)), lstm2.Call(embedding.Call(x2), embedding.ComputeMask(x2, null)));
        var expectedScores = Tensor.MatMul(e2, e1, false, true);
        Numeric.AssertClose(expectedScores.ToArray(), outputs[0].ToArray(), 1e-6, "scores");
        var expectedJoined = Tensor.Concat([Tensor.MatMul(expectedScores.Softmax(2), e1), e2], 2);
        Numeric.AssertClose(expectedJoined.ToArray(), outputs[1].ToArray(), 1e-6, "context and decoder states");
        Assert.Null(new Dot(axes: 2).ComputeMask([Tensor.Ones(2, 7), Tensor.Ones(2, 5)]));
    }
}
