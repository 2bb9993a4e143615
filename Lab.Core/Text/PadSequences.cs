namespace Lab.Core.Text;

/// <summary>Which end of a sequence <see cref="Sequences.Pad"/> pads or cuts (Keras's 'pre' and 'post').</summary>
public enum PadSide { Pre, Post }

public static class Sequences
{
    /// <summary>
    /// Keras's pad_sequences: the sequences as rows of a [count, maxlen] tensor (maxlen: the longest one's length when
    /// not given), shorter ones filled with <paramref name="value"/> before (Pre, Keras's default) or after (Post) them,
    /// longer ones cut at the start (Pre, the default) or the end (Post). Values are held as floats, as GenLab's ids are.
    /// </summary>
    public static Tensor Pad(IReadOnlyList<IReadOnlyList<int>> sequences, int? maxlen = null, PadSide padding = PadSide.Pre,
        PadSide truncating = PadSide.Pre, float value = 0f)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (maxlen is < 0) throw new ArgumentException($"PadSequences: maxlen must not be negative, got {maxlen}.");
        for (int i = 0; i < sequences.Count; i++)
            if (sequences[i] is null) throw new ArgumentException($"PadSequences: sequence {i} is null.");
        int length = maxlen ?? (sequences.Count == 0 ? 0 : sequences.Max(s => s.Count));
        var data = new float[sequences.Count * length];
        data.AsSpan().Fill(value);
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            int n = Math.Min(s.Count, length);
            int from = truncating == PadSide.Pre ? s.Count - n : 0;       // which part of s survives
            int to = padding == PadSide.Pre ? length - n : 0;             // where it goes in the row
            for (int k = 0; k < n; k++) data[i * length + to + k] = s[from + k];
        }
        return Tensor.FromArray(data, [sequences.Count, length]);
    }

    /// <summary><see cref="Pad(IReadOnlyList{IReadOnlyList{int}}, int?, PadSide, PadSide, float)"/> for the tokenizer's int arrays.</summary>
    public static Tensor Pad(IReadOnlyList<int[]> sequences, int? maxlen = null, PadSide padding = PadSide.Pre,
        PadSide truncating = PadSide.Pre, float value = 0f)
        => Pad(sequences.Select(s => (IReadOnlyList<int>)s).ToList(), maxlen, padding, truncating, value);
}
