using Lab.Core.Tests.IO;
using Lab.Core.Text;

namespace Lab.Core.Tests.Text;

/// <summary>Keras's Tokenizer and pad_sequences on worked examples (the expected values follow Keras's documented rules).</summary>
public class TokenizerTests
{
    private static readonly string[] Texts = ["The cat sat on the mat.", "The dog ate my homework!"];

    [Fact]
    public void WordsAreNumberedByFallingFrequencyThenFirstAppearance()
    {
        var t = new Tokenizer();
        t.FitOnTexts(Texts);
        Assert.Equal(["the", "cat", "sat", "on", "mat", "dog", "ate", "my", "homework"],
            t.WordIndex.OrderBy(p => p.Value).Select(p => p.Key));
        Assert.Equal(1, t.WordIndex["the"]);
        Assert.Equal("homework", t.IndexWord[9]);
        Assert.Equal(3, t.WordCounts.Single(p => p.Key == "the").Value);
        Assert.Equal(2, t.WordDocs["the"]);
        Assert.Equal(2, t.DocumentCount);
        // Unknown words are dropped without an oov token.
        Assert.Equal([1, 2, 7], t.TextsToSequences(["the cat ate a fish"])[0]);
    }

    [Fact]
    public void OovTokenTakesIndexOneAndStandsForUnknownWords()
    {
        var t = new Tokenizer(oovToken: "<unk>");
        t.FitOnTexts(Texts);
        Assert.Equal(1, t.WordIndex["<unk>"]);
        Assert.Equal(2, t.WordIndex["the"]);
        Assert.Equal([2, 3, 8, 1, 1], t.TextsToSequences(["the cat ate a fish"])[0]);
        Assert.Equal("the cat <unk>", t.SequencesToTexts([[2, 3, 1, 99]])[0]);
    }

    [Fact]
    public void NumWordsKeepsTheMostFrequentAndMapsTheRestToOov()
    {
        var withOov = new Tokenizer(numWords: 3, oovToken: "<unk>");
        withOov.FitOnTexts(Texts);
        Assert.Equal([2, 1, 1], withOov.TextsToSequences(["the cat sat"])[0]);
        Assert.Equal("the <unk>", withOov.SequencesToTexts([[2, 3]])[0]);
        Assert.Equal(10, withOov.WordIndex.Count);   // the index keeps every word, as Keras's does

        var without = new Tokenizer(numWords: 3);
        without.FitOnTexts(Texts);
        Assert.Equal([1, 2], without.TextsToSequences(["the cat sat"])[0]);
        Assert.Equal("the cat", without.SequencesToTexts([[1, 2, 3]])[0]);
    }

    [Fact]
    public void FiltersLowerCaseAndSplitAsKeras()
    {
        var t = new Tokenizer();
        Assert.Equal(["hello", "world", "it's", "me"], t.Tokens("Hello,   World!\tit's\nme."));
        Assert.Equal(["Hello", "World"], new Tokenizer(lower: false).Tokens("Hello World"));
        Assert.Equal(["a b", "c"], new Tokenizer(split: ",", filters: "").Tokens("a b,c,"));
    }

    [Fact]
    public void CharacterLevelCountsCharactersWithoutFilters()
    {
        var t = new Tokenizer(charLevel: true);
        t.FitOnTexts(["Abba!"]);
        Assert.Equal(1, t.WordIndex["a"]);
        Assert.Equal(2, t.WordIndex["b"]);
        Assert.Equal(3, t.WordIndex["!"]);
        Assert.Equal([1, 2, 3], t.TextsToSequences(["ab!c"])[0]);
        Assert.Equal("a b !", t.SequencesToTexts([[1, 2, 3]])[0]);
    }

    [Fact]
    public void SavedTokenizerLoadsBackTheSameVocabulary()
    {
        using var dir = new TempDirectory();
        var t = new Tokenizer(numWords: 5, oovToken: "<unk>");
        t.FitOnTexts(Texts);
        string path = dir.File("tokenizer.json");
        t.Save(path);
        var back = Tokenizer.Load(path);
        Assert.Equal(t.WordIndex.OrderBy(p => p.Value), back.WordIndex.OrderBy(p => p.Value));
        Assert.Equal(t.WordCounts, back.WordCounts);
        Assert.Equal(t.WordDocs.OrderBy(p => p.Key), back.WordDocs.OrderBy(p => p.Key));
        Assert.Equal((t.NumWords, t.OovToken, t.Filters, t.Lower, t.Split, t.CharLevel, t.DocumentCount),
            (back.NumWords, back.OovToken, back.Filters, back.Lower, back.Split, back.CharLevel, back.DocumentCount));
        Assert.Equal(t.TextsToSequences(["the dog sat on a cat"]), back.TextsToSequences(["the dog sat on a cat"]));
        Assert.Equal([path], Directory.GetFiles(dir.Path));   // no staging file left behind
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1, 2]", "not a GenLab tokenizer file")]
    [InlineData("{\"format\": \"genlab-tokenizer\", \"version\": 2}", "version 2")]
    [InlineData("{\"format\": \"genlab-tokenizer\", \"version\": 1, \"filters\": \"\", \"lower\": true, \"split\": \" \", \"char_level\": false, \"document_count\": 1, \"word_counts\": [[\"a\", \"x\", 1]]}", "word_counts[0]")]
    [InlineData("{\"format\": \"genlab-tokenizer\", \"version\": 1, \"filters\": \"\", \"lower\": 3, \"split\": \" \", \"char_level\": false, \"document_count\": 1, \"word_counts\": []}", "\"lower\" must be a Boolean")]
    [InlineData("{\"format\": \"genlab-tokenizer\", \"version\": 1, \"filters\": \"\", \"lower\": true, \"split\": \" \", \"char_level\": false, \"document_count\": 1, \"word_counts\": [[\"a\", 2, 1], [\"a\", 1, 1]]}", "'a' appears twice")]
    public void BadFilesAreClearErrors(string content, string expected)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.json");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => Tokenizer.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Tokenizer.Load("/nonexistent/genlab/tokenizer.json"));
        Assert.Contains("cannot read '/nonexistent/genlab/tokenizer.json'", e.Message);
    }

    [Fact]
    public void PadSequencesFollowsKerasDefaultsAndOptions()
    {
        int[][] seqs = [[1, 2, 3], [4, 5], [6]];
        var padded = Sequences.Pad(seqs);
        Assert.Equal([3, 3], padded.ShapeArray());
        Assert.Equal([1f, 2, 3, 0, 4, 5, 0, 0, 6], padded.ToArray());
        Assert.Equal([2f, 3, 4, 5, 0, 6], Sequences.Pad(seqs, maxlen: 2).ToArray());
        Assert.Equal([1f, 2, 4, 5, 6, 0], Sequences.Pad(seqs, maxlen: 2, padding: PadSide.Post, truncating: PadSide.Post).ToArray());
        Assert.Equal([1f, 2, 3, -1, 4, 5, -1, -1, 6, -1, -1, -1], Sequences.Pad(seqs, maxlen: 4, padding: PadSide.Post, value: -1).ToArray());
        Assert.Equal([0f, 7], Sequences.Pad([[], [7]], maxlen: 1).ToArray());        // an empty sequence is all padding
        Assert.Equal([1f, 2, 3, 4, 0, 0, 5, 6], Sequences.Pad([[1, 2, 3, 4, 5, 6], [5, 6]], maxlen: 4, truncating: PadSide.Post).ToArray());
        Assert.Throws<ArgumentException>(() => Sequences.Pad(seqs, maxlen: -1));
    }
}
