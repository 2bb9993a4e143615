namespace Lab.Core.Backends;

/// <summary>Thrown when a device is asked for that this machine cannot provide (message: "CUDA not available: reason").</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);

/// <summary>
/// Maps a <see cref="Device"/> to the backend that runs its kernels: one provider per <see cref="DeviceType"/>,
/// given the device index. The CPU and CUDA backends register themselves through <see cref="Register"/> when
/// Lab.Core loads (module initializers beside each backend), exactly as another backend would; a provider that
/// cannot serve a device throws <see cref="DeviceUnavailableException"/> ("CUDA not available: reason").
/// </summary>
public static class BackendRegistry
{
    private static readonly Lock Gate = new();
    // Copied on write and read without the lock: every tensor allocation looks its backend up here.
    private static Func<int, IBackend>?[] _providers = new Func<int, IBackend>?[Enum.GetValues<DeviceType>().Length];

    /// <summary>Installs (or replaces) the provider of <paramref name="type"/>'s backends, called with the device index.</summary>
    public static void Register(DeviceType type, Func<int, IBackend> provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if ((uint)type >= (uint)_providers.Length)
            throw new ArgumentOutOfRangeException(nameof(type), type, "BackendRegistry.Register: unknown device type.");
        lock (Gate)
        {
            var next = (Func<int, IBackend>?[])_providers.Clone();
            next[(int)type] = provider;
            _providers = next;
        }
    }

    /// <summary>Whether a provider is registered for <paramref name="type"/> (it may still fail for a given device).</summary>
    public static bool IsRegistered(DeviceType type) => (uint)type < (uint)_providers.Length && _providers[(int)type] is not null;

    public static IBackend For(Device device)
    {
        var providers = _providers;
        if ((uint)device.Type < (uint)providers.Length && providers[(int)device.Type] is { } provider) return provider(device.Index);
        throw new DeviceUnavailableException($"{Name(device.Type)} not available: no backend is registered for {device}");
    }

    private static string Name(DeviceType type) => type == DeviceType.Cuda ? "CUDA" : type.ToString().ToUpperInvariant();
}
