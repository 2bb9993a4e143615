namespace Lab.Core.Autodiff;

/// <summary>Raised in anomaly mode by the first op whose result holds NaN or infinity.</summary>
public sealed class AnomalyException(string message) : Exception(message);

/// <summary>
/// Opt-in anomaly mode: every op checks its result for NaN/Inf and throws naming itself.
/// Off by default because the scan costs a pass over every result. The setting belongs to the current flow of
/// execution (an <see cref="AsyncLocal{T}"/>, not a thread-static: a pooled thread must not carry it into the next
/// piece of work), so one run turning it on does not slow down or change another running beside it in the process.
/// </summary>
public static class Anomaly
{
    private static readonly AsyncLocal<bool> _enabled = new();

    public static bool Enabled { get => _enabled.Value; set => _enabled.Value = value; }

    /// <summary><c>using (Anomaly.Detect()) { ... }</c> turns the mode on for a scope.</summary>
    public static IDisposable Detect() => new Scope();

    internal static void Check(string op, Tensor result)
    {
        if (!Enabled) return;
        var data = result.ToArray();
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i]))
                throw new AnomalyException($"Anomaly: {op} produced {data[i]} at flat index {i} of its result of shape {ShapeUtil.Format(result.Shape)}.");
    }

    private sealed class Scope : IDisposable
    {
        private readonly bool _previous = Enabled;
        public Scope() => Enabled = true;
        public void Dispose() => Enabled = _previous;
    }
}
