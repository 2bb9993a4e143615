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
}
