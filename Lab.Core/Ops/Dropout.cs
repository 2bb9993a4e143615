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
        if (Tracing.Trace.IsRecording) RecordMask(mask.Storage, mask.Offset, mask.Numel, generator, p, keep);
        else DrawMask(mask.Storage, mask.Offset, mask.Numel, null, generator, p, keep);
        return this * mask;
    }

    // Its own method, so that the closure is made only while recording (an eager step allocates nothing).
    private static void RecordMask(Backends.Storage storage, int offset, int numel, Generator generator, float p, float keep)
    {
        var host = storage is Backends.CpuStorage ? null : new float[numel];
        Tracing.Trace.Host("Dropout mask", () => DrawMask(storage, offset, numel, host, generator, p, keep));
    }

    private static void DrawMask(Backends.Storage storage, int offset, int numel, float[]? host, Generator generator, float p, float keep)
    {
        Span<float> m = storage is Backends.CpuStorage cpu ? cpu.Data.AsSpan(offset, numel) : host ?? new float[numel];
        for (int i = 0; i < m.Length; i++) m[i] = generator.NextFloat() < p ? 0f : keep;
        if (storage is not Backends.CpuStorage) storage.Backend.Upload(m, new Backends.StorageView(storage, offset, numel, [numel]));
    }
}
