using Lab.Core.Nn;
using Lab.Core.Text;

namespace Lab.Core.Tests.Nn;

/// <summary>README's "Using the core" sequence example, run as written there (between the marked lines).</summary>
public class ReadmeSequenceTests
{
    [Fact]
    public void TheReadmeSequenceExampleRunsAsWritten()
    {
        // ---- README begins
        string[] texts = ["the cat sat on the mat", "the dog ate my homework", "a cat and a dog"];
        var tokenizer = new Tokenizer(numWords: 1000, oovToken: "<unk>");
        tokenizer.FitOnTexts(texts);
        var ids = Sequences.Pad(tokenizer.TextsToSequences(texts), maxlen: 8);   // [3, 8] ids, zeros in front (Keras's 'pre')
        var classifier = new Sequential(
            new Embedding(1000, 32, maskZero: true),                 // the padding steps are masked
            new Bidirectional(new Lstm(32, 64), MergeMode.Concat),   // [3, 128]
            new Linear(128, 2, Activation.Softmax));
        var probabilities = classifier.Call(ids);                    // [3, 2]
        var attention = new MultiHeadAttention(numHeads: 4, keyDim: 16, queryFeatures: 32);
        var contextual = attention.Forward(Tensor.RandN(new Generator(1), [3, 8, 32]));   // self-attention, [3, 8, 32]
        // ---- README ends
        Assert.Equal([3, 8], ids.ShapeArray());
        Assert.Equal(0f, ids[0, 0]);                          // "the cat sat on the mat" has 6 words: 2 pads in front
        Assert.Equal([3, 2], probabilities.ShapeArray());
        Assert.All(probabilities.Sum(1).ToArray(), s => Assert.Equal(1f, s, 1e-5f));
        Assert.Equal([3, 8, 32], contextual.ShapeArray());
    }

    [Fact]
    public void TheReadmeShowsTheTestedExample() => ReadmeExample.AssertSameAsTest("string[] texts = ", "Nn", "ReadmeSequenceTests.cs");
}
