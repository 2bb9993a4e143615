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
        var (storage, offset, numel) = (mask.Storage, mask.Offset, mask.Numel);
        // The mask is a host action: a traced step draws a new one, in the same order, at every replay.
        if (Tracing.Trace.IsRecording)
        {
            var host = storage is Backends.CpuStorage ? null : new float[numel];
            Tracing.Trace.Host("Dropout mask", () => DrawMask(storage, offset, numel, host, generator, p, keep));
        }
        else DrawMask(storage, offset, numel, null, generator, p, keep);
        return this * mask;
    }

    private static void DrawMask(Backends.Storage storage, int offset, int numel, float[]? host, Generator generator, float p, float keep)
    {
        Span<float> m = storage is Backends.CpuStorage cpu ? cpu.Data.AsSpan(offset, numel) : host ?? new float[numel];
        for (int i = 0; i < m.Length; i++) m[i] = generator.NextFloat() < p ? 0f : keep;
        if (storage is not Backends.CpuStorage) storage.Backend.Upload(m, new Backends.StorageView(storage, offset, numel, [numel]));
    }
}
