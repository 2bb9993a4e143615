using Lab.Core.Autodiff;

namespace Lab.Core.Training;

/// <summary>Raised when training or sampling produces NaN or infinity; the message says what, where, and the likely cause.</summary>
public sealed class NonFiniteException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one check every training loop and sampler uses: stop at the first NaN or infinity with a message that names
/// the quantity and where it happened ("loss became NaN at epoch 3, step 41"), then a hint: which run and what
/// probably caused it ("of score: the learning rate 1e9 (--lr) is probably too high"). Nothing is allocated unless
/// the check fails, so a training step can run it every time.
/// </summary>
public static class NonFinite
{
    /// <summary>Throws when <paramref name="value"/> (e.g. a batch loss) is NaN or infinite; epoch and step are 1-based.</summary>
    public static void Check(double value, string quantity, int epoch, int step, string? hint = null)
    {
        if (!double.IsFinite(value)) throw new NonFiniteException(Message(quantity, value, $"at epoch {epoch}, step {step}", hint));
    }

    /// <summary>Throws when any of <paramref name="values"/> (samples, a perturbation ...) is NaN or infinite.</summary>
    /// <param name="where">Where they were produced, e.g. "after Langevin step 7".</param>
    public static void Check(ReadOnlySpan<float> values, string quantity, string where, string? hint = null)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new NonFiniteException(Message(quantity, values[i], $"{where} (value {i} of {values.Length})", hint));
    }

    /// <summary>The message of a check that failed: "{quantity} became NaN {where} {hint}".</summary>
    public static string Message(string quantity, double value, string where, string? hint) =>
        $"{quantity} became {(double.IsNaN(value) ? "NaN" : "infinite")} {where}{Suffix(hint)}";

    /// <summary>An op's NaN found in anomaly mode, placed in the training loop: the op, the epoch and step, the hint.</summary>
    public static NonFiniteException FromAnomaly(AnomalyException anomaly, int epoch, int step, string? hint = null) =>
        new($"{anomaly.Message.TrimEnd('.')}, at epoch {epoch}, step {step}{Suffix(hint)}", anomaly);

    private static string Suffix(string? hint) => string.IsNullOrEmpty(hint) ? "." : " " + hint;
}
