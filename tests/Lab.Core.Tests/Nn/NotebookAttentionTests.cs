using Lab.Core.Autodiff;
using Lab.Core.Nn;
using static Lab.Core.Nn.Functional;

namespace Lab.Core.Tests.Nn;

/// <summary>
/// Notebook 004's attention exercise, written with the functional API as the notebook writes it in Keras: one
/// Embedding shared by two inputs, a Bidirectional LSTM on each, dot-product scores, softmax, context vectors,
/// concatenation and Dense(tanh).
/// </summary>
public class NotebookAttentionTests
{
    private static (Model Model, Embedding Embedding, Bidirectional Encoder1, Bidirectional Encoder2, Linear Dense) Build()
    {
        var g = new Generator(42);
        var input1 = Input([20], name: "input_1");
        var input2 = Input([30], name: "input_2");
        var embedding = new Embedding(1000, 100, generator: g);
        var encoder1 = new Bidirectional(new Lstm(100, 200, returnSequences: true, generator: g), MergeMode.Concat);
        var encoder2 = new Bidirectional(new Lstm(100, 200, returnSequences: true, generator: g), MergeMode.Concat);
        var dense = new Linear(800, 200, Activation.Tanh, generator: g);

        var h1 = encoder1.Call(embedding.Call(input1));                    // (None, 20, 400)
        var h2 = encoder2.Call(embedding.Call(input2));                    // (None, 30, 400)
        var scores = new Dot(axes: 2).Call(h2, h1);                        // (None, 30, 20)
        var weights = new ActivationLayer(Activation.Softmax).Call(scores);
        var context = new Dot(axes: (2, 1)).Call(weights, h1);            // (None, 30, 400)
        var joined = new Concatenate().Call(context, h2);                  // (None, 30, 800)
        var output = dense.Call(joined);                                   // (None, 30, 200)
        Assert.Equal([null, 30, 20], scores.Shape);
        Assert.Equal([null, 30, 400], context.Shape);
        Assert.Equal([null, 30, 800], joined.Shape);
        Assert.Equal([null, 30, 200], output.Shape);
        return (new Model([input1, input2], [output], name: "attention"), embedding, encoder1, encoder2, dense);
    }

    private static Tensor Ids(int batch, int steps, int salt) =>
        Tensor.FromArray(Enumerable.Range(0, batch * steps).Select(i => (float)((i * 37 + salt) % 1000)).ToArray(), [batch, steps]);

    [Fact]
    public void TheExerciseGivesKerasShapesAndTheEquationsValues()
    {
        var (model, embedding, encoder1, encoder2, dense) = Build();
        var (ids1, ids2) = (Ids(32, 20, 1), Ids(32, 30, 5));
        Tensor y;
        using (new NoGrad()) y = model.Predict(ids1, ids2)[0];
        Assert.Equal([32, 30, 200], y.ShapeArray());

        // The same computation written out with tensor ops on the model's own layers.
        using var _ = new NoGrad();
        var h1 = encoder1.Call(embedding.Call(ids1));
        var h2 = encoder2.Call(embedding.Call(ids2));
        var a = Tensor.MatMul(h2, h1, false, true).Softmax(2);
        Assert.All(a.Sum(2).ToArray(), s => Assert.Equal(1f, s, 1e-5f));
        var context = Tensor.MatMul(a, h1);
        var expected = dense.Call(Tensor.Concat([context, h2], 2));
        Numeric.AssertClose(expected.ToArray(), y.ToArray(), 1e-5, "attention output");
    }

    [Fact]
    public void TheSharedEmbeddingLearnsFromBothInputs()
    {
        var (model, embedding, _, _, _) = Build();
        // Input 1 uses ids 0..9, input 2 ids 10..19: each row of the table is reached through one input only.
        var ids1 = Tensor.FromArray(Enumerable.Range(0, 2 * 20).Select(i => (float)(i % 10)).ToArray(), [2, 20]);
        var ids2 = Tensor.FromArray(Enumerable.Range(0, 2 * 30).Select(i => (float)(10 + i % 10)).ToArray(), [2, 30]);
        var y = model.Call([ids1, ids2])[0];
        y.Square().Sum().Backward();
        var grad = embedding.Embeddings.Grad!.ToArray();
        double RowNorm(int row) => Math.Sqrt(Enumerable.Range(0, 100).Sum(j => (double)grad[row * 100 + j] * grad[row * 100 + j]));
        Assert.All(Enumerable.Range(0, 20), row => Assert.True(RowNorm(row) > 0, $"row {row} got no gradient"));
        Assert.All(Enumerable.Range(20, 10), row => Assert.Equal(0, RowNorm(row)));
        Assert.Single(model.Parameters(), p => ReferenceEquals(p, embedding.Embeddings));
    }
}
