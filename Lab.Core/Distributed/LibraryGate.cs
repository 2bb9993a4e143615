namespace Lab.Core.Distributed;

/// <summary>
/// Loads a native library once per process. The first attempt's failure (what was tried, what to install) is kept and
/// thrown again to every later caller, so a missing library costs one probe and always reads the same.
/// </summary>
/// <param name="tryLoad">Binds the library's entry points; returns null on success, else the message.</param>
internal sealed class LibraryGate(Func<string?> tryLoad)
{
    private readonly Lock _lock = new();
    private string? _failure;
    private bool _loaded;

    public void Load()
    {
        lock (_lock)
        {
            if (_loaded) return;
            _failure ??= tryLoad();
            if (_failure is not null) throw new DllNotFoundException(_failure);
            _loaded = true;
        }
    }
}
