using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Optim;
using Lab.Core.Text;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Notebook 004's attention exercise (a shared Embedding, an LSTM over each input, dot-product scores, softmax, context
/// vectors, concatenation, Dense(tanh)) trained as a character-level encoder-decoder on a task it can learn: dates
/// written in nine human formats ("3 May 1979", "03/05/79", "1979年5月3日" ...) to ISO "1979-05-03". Teacher forcing
/// in training (the decoder reads the target shifted right), greedy decoding on held-out dates, accuracy per format,
/// and the attention weights as heat maps. How the model differs from the notebook cell, and why: <see cref="AttentionTranslator"/>.
/// </summary>
public sealed class AttentionExperiment : IExperiment
{
    public string Name => "attention";
    public string Description => "notebook 004's attention model (shared Embedding, LSTM encoder and decoder, dot scores, softmax, context, Dense tanh) " +
                                 "translating dates in 9 formats to ISO; greedy decoding, accuracy per format, attention maps";

    public static readonly Option<int> TrainSize = Define.Int("--train-size", "training examples (a random training date in a random format each)", 4000, min: 32, quick: 6144);
    public static readonly Option<int> TestDates = Define.Int("--test-dates", "held-out dates, each translated in all 9 formats", 100, min: 1, max: 30000, quick: 40);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size (the notebook's sample input has 32)", 64, min: 1);
    public static readonly Option<int> EmbeddingDim = Define.Int("--embedding-dim", "embedding size (the notebook: 100)", 32, min: 1, max: 4096);
    public static readonly Option<int> Units = Define.Int("--units", "LSTM units per encoder direction; the decoder has twice as many (the notebook: 200)", 64, min: 1, max: 4096);
    public static readonly Option<int> Hidden = Define.Int("--hidden", "units of the Dense(tanh) after the concatenation (the notebook: 200)", 128, min: 1, max: 4096);
    public static readonly Option<float> Lr = Define.Float("--lr", "X", "Adam learning rate", 1e-2f, min: 1e-7f, max: 10f);
    public IReadOnlyList<Option> Options => [TrainSize, TestDates, BatchSize, EmbeddingDim, Units, Hidden, Lr];

    /// <summary>The recipe's epochs (1 with --quick).</summary>
    public const int RecipeEpochs = 5;

    public void Run(ExperimentContext ctx)
    {
        // Data: held-out dates first, training examples from the other dates; the test set is every held-out date in every format.
        var (trainDates, testDates) = DateData.Split(ctx.Get(TestDates), ctx.Rng(1));
        var train = DateData.Sample(trainDates, ctx.Get(TrainSize), ctx.Rng(2));
        var test = DateData.EveryFormat(testDates);

        // Characters to ids with the core's tokenizer (character level, case kept); one vocabulary for both sides, as the
        // notebook's shared Embedding needs. Sources are padded with zeros after the text (Embedding(maskZero) skips them).
        var tokenizer = new Tokenizer(charLevel: true, lower: false);
        tokenizer.FitOnTexts([.. train.Select(e => e.Source), .. train.Select(e => e.Target), DateData.Start]);
        var encoded = new DateEncoding(tokenizer);
        var (trainData, testData) = (encoded.Dataset(train), encoded.Dataset(test));
        ctx.Log($"{train.Length} training examples from {trainDates.Length} dates, {test.Length} test examples ({testDates.Length} held-out dates x " +
                $"{DateData.Formats.Count} formats); {encoded.Vocabulary - 1} characters, sources padded to {DateData.MaxSourceLength}");

        // Model: the notebook's attention layers (see AttentionTranslator for its two changes), Adam, cross-entropy per character.
        var translator = new AttentionTranslator(encoded.Vocabulary, DateData.MaxSourceLength, DateData.TargetLength,
            ctx.Get(EmbeddingDim), ctx.Get(Units), ctx.Get(Hidden), ctx.Rng(3));
        var model = translator.Model;
        model.To(ctx.Device);
        ctx.Log(model.Summary());
        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint((Lr, "the learning rate")) };
        trainer.Compile(new Adam(model.Parameters(), lr: ctx.Get(Lr)),
            new Dictionary<string, Func<Tensor, Tensor, Tensor>> { ["characters"] = AttentionTranslator.Loss },
            metrics: new Dictionary<string, Metric[]> { ["characters"] = [new CharacterAccuracy()] });
        // Greedy decoding of the held-out dates: no target characters, the model's own output fed back. Done after the
        // first epoch too (when there are more), so that the figures show the model before it has learnt, with its failures.
        var sources = encoded.Sources(test).To(ctx.Device);
        Decoded Decode()
        {
            var (ids, weights) = translator.Greedy(sources, encoded.StartId);
            var texts = Enumerable.Range(0, test.Length).Select(i => encoded.Text(ids, i)).ToArray();
            return new Decoded(texts, weights, DateScore.Of(test, texts));
        }
        int epochs = ctx.Epochs(RecipeEpochs);
        Decoded? early = null;
        double earlySeconds = 0;
        var afterFirst = new AfterEpoch(0, () =>
        {
            var c = Stopwatch.StartNew();
            early = Decode();
            earlySeconds = c.Elapsed.TotalSeconds;
        });
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(trainData, epochs, ctx.Get(BatchSize), validationData: testData,
            callbacks: [.. ctx.StandardCallbacks(), .. epochs > 1 ? [afterFirst] : Array.Empty<Callback>()], generator: ctx.Rng(4));
        double trainSeconds = clock.Elapsed.TotalSeconds - earlySeconds;

        clock.Restart();
        var final = Decode();
        var (predictions, score) = (final.Predictions, final.Score);
        ctx.Metric("test_exact_match", score.ExactMatch);
        ctx.Metric("test_char_accuracy", score.CharAccuracy);
        foreach (var (format, s) in score.PerFormat)
        {
            ctx.Metric($"exact_match_{format}", s.ExactMatch);
            ctx.Metric($"char_accuracy_{format}", s.CharAccuracy);
        }
        if (early is not null)
        {
            ctx.Metric("epoch1_exact_match", early.Score.ExactMatch);
            ctx.Metric("epoch1_char_accuracy", early.Score.CharAccuracy);
        }
        ctx.Metric("baseline_char_accuracy", DateScore.MostFrequentBaseline(train, test));
        ctx.Metric("train_examples", train.Length);
        ctx.Metric("test_examples", test.Length);
        ctx.Metric("vocabulary", encoded.Vocabulary);
        ctx.Metric("parameters", model.ParameterCount());
        ctx.Metric("train_seconds", trainSeconds);
        ctx.Metric("decode_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("decoder", "forward LSTM, greedy (see README)");
        ctx.WriteHistory(history);
        tokenizer.Save(ctx.PathFor("tokenizer.json"));
        ctx.Log($"held-out dates: exact match {score.ExactMatch:0.0000}, per character {score.CharAccuracy:0.0000} " +
                $"(most frequent character per position: {DateScore.MostFrequentBaseline(train, test):0.0000})");
        foreach (var (format, s) in score.PerFormat) ctx.Log($"  {format,-12} exact {s.ExactMatch:0.000}  per character {s.CharAccuracy:0.000}");

        AttentionFigures.Draw(ctx, history, test, final, early);
    }
}

/// <summary>Greedy translations of the test set, their attention weights (n, T, S) and their score.</summary>
internal sealed record Decoded(string[] Predictions, float[] Attention, DateScore Score);

/// <summary>Runs an action at the end of one epoch (0-based).</summary>
internal sealed class AfterEpoch(int epoch, Action action) : Callback
{
    public override void OnEpochEnd(int e, IReadOnlyDictionary<string, double> logs)
    {
        if (e == epoch) action();
    }
}

/// <summary>The tokenizer's view of the task: ids for sources (padded), decoder inputs (start + target shifted right) and targets.</summary>
internal sealed class DateEncoding
{
    private readonly Tokenizer _tokenizer;

    public DateEncoding(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        Vocabulary = tokenizer.WordIndex.Count + 1;   // id 0 is padding
        StartId = tokenizer.WordIndex[DateData.Start];
    }

    public int Vocabulary { get; }
    public int StartId { get; }

    /// <summary>Source ids (n, S), padded with zeros after the text; a character the tokenizer never saw is an error, not a silent gap.</summary>
    public Tensor Sources(IReadOnlyList<DateExample> examples)
    {
        var sequences = _tokenizer.TextsToSequences(examples.Select(e => e.Source));
        for (int i = 0; i < sequences.Count; i++)
            if (sequences[i].Length != _tokenizer.Tokens(examples[i].Source).Count)
                throw new InvalidOperationException($"attention: '{examples[i].Source}' has a character the tokenizer was not fitted on.");
        return Sequences.Pad(sequences, DateData.MaxSourceLength, padding: PadSide.Post);
    }

    public MultiDataset Dataset(IReadOnlyList<DateExample> examples)
    {
        var targets = _tokenizer.TextsToSequences(examples.Select(e => e.Target));
        var decoderInput = targets.Select(t => (int[])[StartId, .. t[..^1]]).ToList();
        return MultiDataset.FromTensors([Sources(examples), Sequences.Pad(decoderInput)], [Sequences.Pad(targets)]);
    }

    /// <summary>Row <paramref name="row"/> of decoded ids as text, one character per step: the padding id (never a target) reads "?".</summary>
    public string Text(int[,] ids, int row) =>
        string.Concat(Enumerable.Range(0, ids.GetLength(1)).Select(t => _tokenizer.IndexWord.GetValueOrDefault(ids[row, t], "?")));

    public IReadOnlyList<string> Characters(string text) => _tokenizer.Tokens(text);
}

/// <summary>Per-character accuracy of probabilities (B, T, V) against ids (B, T) with the targets fed in (teacher forcing).</summary>
internal sealed class CharacterAccuracy() : Metric("char_accuracy")
{
    private double _correct;
    private long _count;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        var predicted = yPred.ArgMax(2).ToArray();
        var truth = yTrue.ToArray();
        for (int i = 0; i < truth.Length; i++) _correct += predicted[i] == truth[i] ? 1 : 0;
        _count += truth.Length;
    }

    public override double Result() => _count == 0 ? 0 : _correct / _count;
    public override void Reset() => (_correct, _count) = (0, 0);
}

/// <summary>Exact match and per-character accuracy of decoded dates, overall and per format.</summary>
internal sealed record DateScore(double ExactMatch, double CharAccuracy, IReadOnlyList<(string Format, DateScore Score)> PerFormat)
{
    public static DateScore Of(IReadOnlyList<DateExample> examples, IReadOnlyList<string> predictions) =>
        Score(examples, predictions, DateData.Formats.Where(f => examples.Any(e => e.Format == f))
            .Select(f => (f.Name, Score(Pick(examples, f), Pick(predictions, examples, f), []))).ToList());

    private static DateScore Score(IReadOnlyList<DateExample> examples, IReadOnlyList<string> predictions, IReadOnlyList<(string, DateScore)> perFormat)
    {
        if (examples.Count == 0) return new DateScore(0, 0, perFormat);
        double exact = examples.Select((e, i) => predictions[i] == e.Target ? 1.0 : 0.0).Average();
        double chars = examples.Select((e, i) => Matching(e.Target, predictions[i]) / (double)e.Target.Length).Average();
        return new DateScore(exact, chars, perFormat);
    }

    /// <summary>Positions where the prediction has the target's character (a shorter prediction misses the rest).</summary>
    public static int Matching(string target, string prediction) =>
        Enumerable.Range(0, Math.Min(target.Length, prediction.Length)).Count(i => target[i] == prediction[i]);

    /// <summary>
    /// What a model without the source would score per character: the training targets' most frequent character at
    /// each position, on the test targets (the floor any translation must clear).
    /// </summary>
    public static double MostFrequentBaseline(IReadOnlyList<DateExample> train, IReadOnlyList<DateExample> test)
    {
        var guess = Enumerable.Range(0, DateData.TargetLength)
            .Select(t => train.GroupBy(e => e.Target[t]).MaxBy(g => g.Count())!.Key).ToArray();
        return test.Average(e => Enumerable.Range(0, DateData.TargetLength).Count(t => e.Target[t] == guess[t]) / (double)DateData.TargetLength);
    }

    private static List<DateExample> Pick(IReadOnlyList<DateExample> examples, DateFormat f) => [.. examples.Where(e => e.Format == f)];

    private static List<string> Pick(IReadOnlyList<string> predictions, IReadOnlyList<DateExample> examples, DateFormat f) =>
        [.. predictions.Where((_, i) => examples[i].Format == f)];
}
