namespace Lab.Core.Backends;

/// <summary>Thrown when a device is asked for that this machine cannot provide (message: "CUDA not available: reason").</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);

/// <summary>Maps a <see cref="Device"/> to the backend that runs its kernels.</summary>
public static class BackendRegistry
{
    private static Func<int, IBackend>? _cuda;
    private static Func<string>? _cudaUnavailableReason;

    // The CUDA backend is always installed; it probes the driver on first use of a CUDA device and
    // throws DeviceUnavailableException("CUDA not available: reason") when it cannot run.
    static BackendRegistry() => RegisterCuda(Cuda.CudaBackend.ForDevice, () => Cuda.CudaRuntime.UnavailableReason ?? "no reason given");

    /// <summary>Installed by the CUDA backend: a factory per device index, and why CUDA is unusable when it is.</summary>
    public static void RegisterCuda(Func<int, IBackend> factory, Func<string> unavailableReason)
    {
        _cuda = factory;
        _cudaUnavailableReason = unavailableReason;
    }

    public static IBackend For(Device device) => device.Type switch
    {
        DeviceType.Cpu => CpuBackend.Instance,
        DeviceType.Cuda when _cuda is not null => _cuda(device.Index),
        _ => throw new DeviceUnavailableException("CUDA not available: " + (_cudaUnavailableReason?.Invoke() ?? "this build has no CUDA backend")),
    };
}
