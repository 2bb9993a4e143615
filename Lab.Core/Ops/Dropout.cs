namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p), with the
    /// mask drawn from <paramref name="generator"/> (so a seeded run drops the same units every time).
    /// The identity when not training or p is 0. Composite: its gradient flows through the multiply.
    /// </summary>
    public Tensor Dropout(float p, Generator generator, bool training = true)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentException($"Dropout: probability must be in [0, 1), got {p}.");
        if (!training || p == 0) return this;
        float keep = 1f / (1 - p);
        var mask = Empty(Shape, Device);
        // The mask is a host action: a traced step draws a new one, in the same order, at every replay.
        Tracing.Trace.HostFill("Dropout mask", mask.Storage, mask.Offset, mask.Numel, (generator, p, keep), static (m, s) =>
        {
            for (int i = 0; i < m.Length; i++) m[i] = s.generator.NextFloat() < s.p ? 0f : s.keep;
        });
        return this * mask;
    }
}
