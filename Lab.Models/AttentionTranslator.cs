using Lab.Core;
using Lab.Core.Nn;
using static Lab.Core.Nn.Functional;

namespace Lab.Models;

/// <summary>
/// Notebook 004's attention exercise as an encoder-decoder that translates one character sequence into another (the
/// attention experiment: dates in human formats to ISO). The notebook's layers, with the functional API: one Embedding
/// shared by the source and the decoder input, an LSTM over each, dot-product scores between them (Dot, axes 2), a
/// softmax over the source steps, the context vectors (Dot of the weights and the encoder states), the concatenation
/// [context, decoder state] and Dense(tanh); then a Dense softmax over the vocabulary per target step.
/// </summary>
/// <remarks>
/// Two changes from the notebook cell, both so that the model can translate. (1) The decoder is a forward LSTM, not a
/// Bidirectional one: its input is the target shifted right (teacher forcing), and a backward direction would read
/// the target characters it is asked to predict; trained that way it copies them, and greedy decoding, which has no
/// future characters, fails. A forward LSTM of twice the units keeps the notebook's widths (the encoder's two
/// directions concatenated, 2 x units, are what the scores dot the decoder state with). (2) The softmax ignores the
/// source's padding: ids 0 get -1e9 added to their scores (Keras's Softmax with a mask), as Embedding(maskZero) makes
/// the encoder skip them. Everything else is the cell as written.
/// </remarks>
public sealed class AttentionTranslator
{
    /// <summary>The model for a vocabulary of ids 1..vocabulary-1 (0 is padding), fixed source and target lengths, and the layer sizes.</summary>
    public AttentionTranslator(int vocabulary, int sourceLength, int targetLength, int embeddingDim = 32, int units = 64, int hidden = 128,
        Generator? generator = null)
    {
        if (vocabulary < 2 || sourceLength < 1 || targetLength < 1 || embeddingDim < 1 || units < 1 || hidden < 1)
            throw new ArgumentException($"AttentionTranslator: sizes must be positive (vocabulary at least 2), got vocabulary {vocabulary}, " +
                $"lengths {sourceLength} and {targetLength}, embedding {embeddingDim}, units {units}, hidden {hidden}.");
        var g = generator ?? new Generator(1);
        (Vocabulary, SourceLength, TargetLength) = (vocabulary, sourceLength, targetLength);

        var source = Input([sourceLength], name: "source");
        var decoderInput = Input([targetLength], name: "decoder_input");
        var embedding = new Embedding(vocabulary, embeddingDim, maskZero: true, generator: g) { Name = "embedding" };
        var encoder = new Bidirectional(new Lstm(embeddingDim, units, returnSequences: true, generator: g)) { Name = "encoder" };
        var decoder = new Lstm(embeddingDim, 2 * units, returnSequences: true, generator: g) { Name = "decoder" };

        var h1 = encoder.Call(embedding.Call(source));                                       // (None, S, 2 units)
        var h2 = decoder.Call(embedding.Call(decoderInput));                                 // (None, T, 2 units)
        var scores = new Dot(axes: 2) { Name = "scores" }.Call(h2, h1);                      // (None, T, S)
        var weights = new Lambda(xs => MaskedSoftmax(xs[0], xs[1]), shapes => shapes[0]) { Name = "attention" }.Call(scores, source);
        var context = new Dot(axes: (2, 1)) { Name = "context" }.Call(weights, h1);         // (None, T, 2 units)
        var joined = new Concatenate { Name = "joined" }.Call(context, h2);                 // (None, T, 4 units)
        var attentionalLayer = new Linear(4 * units, hidden, Activation.Tanh, generator: g) { Name = "attentional" };
        var characterLayer = new Linear(hidden, vocabulary, Activation.Softmax, generator: g) { Name = "characters" };
        var characters = characterLayer.Call(attentionalLayer.Call(joined));                // (None, T, vocabulary)

        Model = new Model([source, decoderInput], [characters], name: "translator");
        WithAttention = new Model([source, decoderInput], [characters, weights], name: "translator_attention");

        // The same layers split for decoding: the encoder once per source, then the decoder side on the encoder's states
        // for a decoder input of any length (the steps decoded so far).
        Encoder = new Model(source, h1, name: "translator_encoder");
        var encoded = Input([sourceLength, 2 * units], name: "encoded");
        var source2 = Input([sourceLength], name: "source_ids");
        var prefix = Input([null], name: "decoded_so_far");
        var d2 = decoder.Call(embedding.Call(prefix));
        var w2 = new Lambda(xs => MaskedSoftmax(xs[0], xs[1]), shapes => shapes[0]) { Name = "attention_step" }
            .Call(new Dot(axes: 2) { Name = "scores_step" }.Call(d2, encoded), source2);
        var c2 = new Dot(axes: (2, 1)) { Name = "context_step" }.Call(w2, encoded);
        var p2 = characterLayer.Call(attentionalLayer.Call(new Concatenate { Name = "joined_step" }.Call(c2, d2)));
        Decoder = new Model([encoded, source2, prefix], [p2, w2], name: "translator_decoder");
    }

    /// <summary>The encoder alone: source ids (B, S) to its states (B, S, 2 units).</summary>
    public Model Encoder { get; }

    /// <summary>
    /// The decoder side alone on the encoder's states: [encoder states (B, S, 2 units), source ids (B, S), decoder input
    /// (B, t)] to [probabilities (B, t, vocabulary), attention weights (B, t, S)], for any t (greedy decoding).
    /// </summary>
    public Model Decoder { get; }

    public int Vocabulary { get; }
    public int SourceLength { get; }
    public int TargetLength { get; }

    /// <summary>[source ids (B, S), decoder input ids (B, T)] to character probabilities (B, T, vocabulary).</summary>
    public Model Model { get; }

    /// <summary>The same layers with a second output: the attention weights (B, T, S), each row summing to 1 over the source.</summary>
    public Model WithAttention { get; }

    /// <summary>softmax over the source steps of scores (B, T, S), with the padding (id 0) of <paramref name="source"/> (B, S) left out.</summary>
    public static Tensor MaskedSoftmax(Tensor scores, Tensor source)
    {
        var padding = source.Eq(0f).Unsqueeze(1);   // (B, 1, S): 1 where padded
        return (scores - padding * 1e9f).Softmax(-1);
    }

    /// <summary>
    /// Sparse cross-entropy over every target step: probabilities (B, T, V) against ids (B, T), the mean over B x T
    /// characters (Keras's loss on a sequence output).
    /// </summary>
    public static Tensor Loss(Tensor probabilities, Tensor targets)
    {
        int rows = probabilities.Shape[0] * probabilities.Shape[1];
        return Losses.SparseCategoricalCrossEntropy(probabilities.Reshape(rows, probabilities.Shape[2]), targets.Reshape(rows));
    }

    /// <summary>
    /// Greedy decoding: the encoder runs once; the decoder input starts as [start] and at each step the model's most
    /// likely next character is appended, until <see cref="TargetLength"/> characters. Feeding the prefix again each step
    /// is exact because the decoder is causal (its output at t reads inputs 0..t only). Returns the decoded ids (B, T)
    /// and the attention weights (B, T, S) of the final step's pass (the same as every earlier step's, for that reason).
    /// </summary>
    public (int[,] Ids, float[] Attention) Greedy(Tensor source, int startId, int batchSize = 256)
    {
        if (source.Rank != 2 || source.Shape[1] != SourceLength)
            throw new ArgumentException($"AttentionTranslator.Greedy: expected source ids (batch, {SourceLength}), got {ShapeUtil.Format(source.Shape)}.");
        int n = source.Shape[0], T = TargetLength, S = SourceLength;
        var ids = new int[n, T];
        var attention = new float[n * T * S];
        for (int from = 0; from < n; from += batchSize)
        {
            int b = Math.Min(batchSize, n - from);
            var src = source.Narrow(0, from, b);
            var encoded = Encoder.Predict(src)[0];
            var decoded = new float[b * (T + 1)];           // row i: start, then the characters so far
            for (int i = 0; i < b; i++) decoded[i * (T + 1)] = startId;
            Tensor[] outputs = [];
            for (int t = 0; t < T; t++)
            {
                var prefix = new float[b * (t + 1)];
                for (int i = 0; i < b; i++) Array.Copy(decoded, i * (T + 1), prefix, i * (t + 1), t + 1);
                outputs = Decoder.Predict(encoded, src, Tensor.FromArray(prefix, [b, t + 1], source.Device));
                var next = outputs[0].Narrow(1, t, 1).ArgMax(2).ToArray();   // (b, 1)
                for (int i = 0; i < b; i++)
                {
                    ids[from + i, t] = (int)next[i];
                    decoded[i * (T + 1) + t + 1] = next[i];
                }
            }
            outputs[1].ToArray().CopyTo(attention, from * T * S);
        }
        return (ids, attention);
    }
}
