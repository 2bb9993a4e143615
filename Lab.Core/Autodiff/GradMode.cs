namespace Lab.Core.Autodiff;

/// <summary>Whether ops record autograd nodes on this thread (PyTorch's grad mode).</summary>
public static class GradMode
{
    [ThreadStatic] private static bool _disabled;

    public static bool IsEnabled => !_disabled;

    internal static bool SetEnabled(bool enabled)
    {
        bool previous = !_disabled;
        _disabled = !enabled;
        return previous;
    }
}

/// <summary><c>using (new NoGrad()) { ... }</c>: ops inside record nothing (inference, optimizer updates).</summary>
public readonly struct NoGrad : IDisposable
{
    private readonly bool _previous;
    public NoGrad() => _previous = GradMode.SetEnabled(false);
    public void Dispose() => GradMode.SetEnabled(_previous);
}

/// <summary>Re-enables recording inside a <see cref="NoGrad"/> scope (used by createGraph backward passes).</summary>
public readonly struct EnableGrad : IDisposable
{
    private readonly bool _previous;
    public EnableGrad() => _previous = GradMode.SetEnabled(true);
    public void Dispose() => GradMode.SetEnabled(_previous);
}
