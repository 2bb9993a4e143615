namespace Lab.Core.Cuda;

/// <summary>
/// Whether this process can use CUDA, decided once on first use: the driver library loads, cuInit
/// succeeds, a device exists and cuBLAS is found. Setting LAB_DISABLE_CUDA=1 turns CUDA off (to run
/// the no-GPU paths on a GPU machine).
/// </summary>
public static unsafe class CudaRuntime
{
    private static readonly Lazy<(string? Reason, int Devices, int DriverVersion)> Probe = new(Run);

    public static bool IsAvailable => Probe.Value.Reason is null;

    /// <summary>Why CUDA cannot be used here, or null when it can.</summary>
    public static string? UnavailableReason => Probe.Value.Reason;

    public static int DeviceCount => Probe.Value.Devices;

    /// <summary>The driver's CUDA version as major.minor (0 when no driver).</summary>
    public static string DriverVersion => $"{Probe.Value.DriverVersion / 1000}.{Probe.Value.DriverVersion % 1000 / 10}";

    /// <summary>Where cuBLAS was loaded from, once it was.</summary>
    public static string? CuBlasPath => CuBlas.LoadedFrom;

    private static (string?, int, int) Run()
    {
        if (Environment.GetEnvironmentVariable("LAB_DISABLE_CUDA") is "1" or "true")
            return ("disabled by LAB_DISABLE_CUDA", 0, 0);
        if (CudaDriver.Load() is { } noDriver) return (noDriver, 0, 0);
        int version = 0;
        CudaDriver.cuDriverGetVersion(&version);
        int r = CudaDriver.cuInit(0);
        if (r != 0) return ($"cuInit failed: {CudaDriver.Describe(r)}", 0, version);
        int count = 0;
        r = CudaDriver.cuDeviceGetCount(&count);
        if (r != 0) return ($"cuDeviceGetCount failed: {CudaDriver.Describe(r)}", 0, version);
        if (count == 0) return ("the driver reports no CUDA device", 0, version);
        if (CuBlas.Load() is { } noBlas) return (noBlas, count, version);
        return (null, count, version);
    }

    /// <summary>Throws DeviceUnavailableException("CUDA not available: reason") unless CUDA works.</summary>
    internal static void Require(int index)
    {
        if (UnavailableReason is { } reason) throw new Backends.DeviceUnavailableException("CUDA not available: " + reason);
        if (index < 0 || index >= DeviceCount)
            throw new Backends.DeviceUnavailableException($"CUDA not available: cuda:{index} was asked for but this machine has {DeviceCount} CUDA device(s)");
    }
}
