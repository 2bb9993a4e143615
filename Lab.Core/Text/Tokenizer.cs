using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lab.Core.IO;

namespace Lab.Core.Text;

/// <summary>
/// Keras's text Tokenizer. <see cref="FitOnTexts"/> counts words (or characters, with charLevel) and numbers them
/// from 1 by falling frequency, ties in order of first appearance; an oovToken takes index 1 and stands for every
/// word outside the vocabulary. <see cref="TextsToSequences"/> keeps the words whose index is below numWords (the
/// numWords - 1 most frequent, the oov token among them) and maps the rest to the oov index, or drops them when
/// there is none. Words are split on <see cref="Split"/> after lower-casing and turning every character of
/// <see cref="Filters"/> into a split; character level only lower-cases (Keras applies no filters there).
/// </summary>
public sealed class Tokenizer
{
    /// <summary>Keras's default filters: punctuation, tab and newline.</summary>
    public const string DefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

    private readonly List<string> _order = [];                 // words in order of first appearance
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _docs = new(StringComparer.Ordinal);
    private Dictionary<string, int> _wordIndex = new(StringComparer.Ordinal);
    private Dictionary<int, string> _indexWord = [];

    public Tokenizer(int? numWords = null, string filters = DefaultFilters, bool lower = true, string split = " ",
        bool charLevel = false, string? oovToken = null)
    {
        if (numWords is < 1) throw new ArgumentException($"Tokenizer: numWords must be at least 1, got {numWords}.");
        if (string.IsNullOrEmpty(split) && !charLevel) throw new ArgumentException("Tokenizer: split must not be empty for word-level tokens.");
        (NumWords, Filters, Lower, Split, CharLevel, OovToken) = (numWords, filters ?? "", lower, split ?? " ", charLevel, oovToken);
    }

    public int? NumWords { get; }
    public string Filters { get; }
    public bool Lower { get; }
    public string Split { get; }
    public bool CharLevel { get; }
    public string? OovToken { get; }
    /// <summary>How many texts <see cref="FitOnTexts"/> has seen.</summary>
    public int DocumentCount { get; private set; }

    /// <summary>Every fitted word and its index (1-based; the oov token, if any, at 1).</summary>
    public IReadOnlyDictionary<string, int> WordIndex => _wordIndex;
    public IReadOnlyDictionary<int, string> IndexWord => _indexWord;
    /// <summary>How often each word occurred, in order of first appearance.</summary>
    public IEnumerable<KeyValuePair<string, int>> WordCounts => _order.Select(w => new KeyValuePair<string, int>(w, _counts[w]));
    /// <summary>In how many texts each word occurred.</summary>
    public IReadOnlyDictionary<string, int> WordDocs => _docs;

    /// <summary>The tokens of one text as this tokenizer splits it (Keras's text_to_word_sequence, or its characters).</summary>
    public IReadOnlyList<string> Tokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Lower) text = text.ToLowerInvariant();
        if (CharLevel)
        {
            var chars = new List<string>();
            var e = System.Globalization.StringInfo.GetTextElementEnumerator(text);
            while (e.MoveNext()) chars.Add((string)e.Current);
            return chars;
        }
        if (Filters.Length > 0)
        {
            var sb = new StringBuilder(text.Length);
            foreach (char ch in text) sb.Append(Filters.Contains(ch) ? Split : ch.ToString());
            text = sb.ToString();
        }
        return text.Split(Split, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Counts the texts' tokens and renumbers the vocabulary (it may be called again with more texts).</summary>
    public void FitOnTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int i = 0;
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException($"Tokenizer.FitOnTexts: text {i} is null.");
            DocumentCount++;
            var tokens = Tokens(text);
            foreach (var w in tokens)
            {
                if (_counts.TryGetValue(w, out int c)) _counts[w] = c + 1;
                else { _counts[w] = 1; _order.Add(w); }
            }
            foreach (var w in tokens.Distinct(StringComparer.Ordinal)) _docs[w] = _docs.GetValueOrDefault(w) + 1;
            i++;
        }
        Renumber();
    }

    /// <summary>Keras's numbering: a stable sort by falling count, the oov token first.</summary>
    private void Renumber()
    {
        var words = _order.Select((w, k) => (w, k)).OrderByDescending(p => _counts[p.w]).ThenBy(p => p.k).Select(p => p.w).ToList();
        if (OovToken is not null) words.Insert(0, OovToken);
        _wordIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        _indexWord = [];
        for (int k = 0; k < words.Count; k++)
        {
            // An oov token that is also a word of the texts keeps index 1 (Keras's dict keeps the later entry's index; here the first).
            if (_wordIndex.ContainsKey(words[k])) continue;
            _wordIndex[words[k]] = k + 1;
            _indexWord[k + 1] = words[k];
        }
    }

    private int? OovIndex => OovToken is not null && _wordIndex.TryGetValue(OovToken, out int i) ? i : null;

    /// <summary>Each text as its token indices (see the class remarks for numWords and the oov token).</summary>
    public List<int[]> TextsToSequences(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new List<int[]>();
        int? oov = OovIndex;
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException($"Tokenizer.TextsToSequences: text {result.Count} is null.");
            var seq = new List<int>();
            foreach (var w in Tokens(text))
            {
                if (_wordIndex.TryGetValue(w, out int i))
                {
                    if (NumWords is int n && i >= n) { if (oov is int o) seq.Add(o); }
                    else seq.Add(i);
                }
                else if (oov is int o) seq.Add(o);
            }
            result.Add([.. seq]);
        }
        return result;
    }

    /// <summary>Sequences back to text, tokens joined by spaces; unknown indices are dropped, those past numWords become the oov token.</summary>
    public List<string> SequencesToTexts(IEnumerable<IReadOnlyList<int>> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var result = new List<string>();
        int? oov = OovIndex;
        foreach (var seq in sequences)
        {
            var words = new List<string>();
            foreach (int i in seq)
            {
                if (!_indexWord.TryGetValue(i, out var w)) continue;
                if (NumWords is int n && i >= n) { if (oov is int o) words.Add(_indexWord[o]); }
                else words.Add(w);
            }
            result.Add(string.Join(' ', words));
        }
        return result;
    }

    // ---- saving and loading ----

    private const string Format = "genlab-tokenizer";

    /// <summary>The configuration and the fitted counts as JSON (the word index follows from them).</summary>
    public string ToJson()
    {
        var counts = new JsonArray();
        foreach (var w in _order) counts.Add(new JsonArray(w, _counts[w], _docs.GetValueOrDefault(w)));
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = 1,
            ["num_words"] = NumWords,
            ["filters"] = Filters,
            ["lower"] = Lower,
            ["split"] = Split,
            ["char_level"] = CharLevel,
            ["oov_token"] = OovToken,
            ["document_count"] = DocumentCount,
            ["word_counts"] = counts,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically (a staging file, then a rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>A tokenizer read back from <see cref="Save"/>'s file; a file that is not one fails with what is wrong and where.</summary>
    public static Tokenizer Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Tokenizer.Load: cannot read '{path}': {e.Message}", e);
        }
        return FromJson(text, path);
    }

    public static Tokenizer FromJson(string json, string source = "JSON text")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"Tokenizer: {source} is not valid JSON (line {e.LineNumber + 1}): {e.Message}", e); }
        if (root is not JsonObject o || !(o["format"] is JsonValue f && f.TryGetValue<string>(out var name) && name == Format))
            throw new InvalidDataException($"Tokenizer: {source} is not a GenLab tokenizer file (expected \"format\": \"{Format}\").");
        int version = Read<int>(o, "version", source);
        if (version != 1) throw new InvalidDataException($"Tokenizer: {source} has version {version}; this GenLab reads version 1.");
        var tokenizer = new Tokenizer(o["num_words"] is null ? null : Read<int>(o, "num_words", source), Read<string>(o, "filters", source), Read<bool>(o, "lower", source),
            Read<string>(o, "split", source), Read<bool>(o, "char_level", source), o["oov_token"] is null ? null : Read<string>(o, "oov_token", source));
        tokenizer.DocumentCount = Read<int>(o, "document_count", source);
        if (o["word_counts"] is not JsonArray counts) throw new InvalidDataException($"Tokenizer: {source} has no \"word_counts\" array.");
        for (int i = 0; i < counts.Count; i++)
        {
            if (counts[i] is not JsonArray { Count: 3 } entry)
                throw new InvalidDataException($"Tokenizer: {source}, word_counts[{i}] must be [word, count, documents].");
            string word; int count, docs;
            try { (word, count, docs) = (entry[0]!.GetValue<string>(), entry[1]!.GetValue<int>(), entry[2]!.GetValue<int>()); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new InvalidDataException($"Tokenizer: {source}, word_counts[{i}] must be [word, count, documents]: {e.Message}", e);
            }
            if (count < 1 || docs < 0) throw new InvalidDataException($"Tokenizer: {source}, word_counts[{i}] ('{word}') has count {count} and documents {docs}.");
            if (!tokenizer._counts.TryAdd(word, count)) throw new InvalidDataException($"Tokenizer: {source}, word_counts[{i}]: '{word}' appears twice.");
            tokenizer._order.Add(word);
            if (docs > 0) tokenizer._docs[word] = docs;
        }
        tokenizer.Renumber();
        return tokenizer;
    }

    private static T Read<T>(JsonObject o, string key, string source)
    {
        var node = o[key] ?? throw new InvalidDataException($"Tokenizer: {source} has no \"{key}\".");
        try { return node.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Tokenizer: {source}, \"{key}\" must be a {typeof(T).Name}, got {node.ToJsonString()}.", e);
        }
    }
}
