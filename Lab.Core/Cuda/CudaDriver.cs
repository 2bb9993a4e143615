using System.Runtime.InteropServices;

namespace Lab.Core.Cuda;

/// <summary>A CUDA driver or cuBLAS call that failed, with the library's name and description of the error.</summary>
public sealed class CudaException(string message) : Exception(message);

/// <summary>
/// The CUDA driver API (libcuda.so.1, installed with the NVIDIA driver), resolved at run time into
/// unmanaged function pointers: nothing is loaded until CUDA is first asked for, a machine without the
/// driver gets a precise reason instead of a DllNotFoundException, and every call is a direct,
/// blittable call (handles are nint, device addresses ulong, CUresult int).
/// </summary>
internal static unsafe class CudaDriver
{
    public const string LibraryName = "libcuda.so.1";

    public static delegate* unmanaged<uint, int> cuInit;
    public static delegate* unmanaged<int*, int> cuDriverGetVersion;
    public static delegate* unmanaged<int*, int> cuDeviceGetCount;
    public static delegate* unmanaged<int*, int, int> cuDeviceGet;
    public static delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public static delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public static delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public static delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public static delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
    public static delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public static delegate* unmanaged<ulong, int> cuMemFree;
    public static delegate* unmanaged<void**, nuint, int> cuMemAllocHost;
    public static delegate* unmanaged<void*, int> cuMemFreeHost;
    public static delegate* unmanaged<ulong, void*, nuint, nint, int> cuMemcpyHtoDAsync;
    public static delegate* unmanaged<void*, ulong, nuint, nint, int> cuMemcpyDtoHAsync;
    public static delegate* unmanaged<ulong, ulong, nuint, nint, int> cuMemcpyDtoDAsync;
    public static delegate* unmanaged<ulong, uint, nuint, nint, int> cuMemsetD32Async;
    public static delegate* unmanaged<nint*, void*, uint, int*, void**, int> cuModuleLoadDataEx;
    public static delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public static delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    public static delegate* unmanaged<nint*, uint, int> cuStreamCreate;
    public static delegate* unmanaged<nint, int> cuStreamSynchronize;
    public static delegate* unmanaged<nint*, uint, int> cuEventCreate;
    public static delegate* unmanaged<nint, nint, int> cuEventRecord;
    public static delegate* unmanaged<nint, int> cuEventSynchronize;
    public static delegate* unmanaged<float*, nint, nint, int> cuEventElapsedTime;
    public static delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public static delegate* unmanaged<int, byte**, int> cuGetErrorString;

    // Graphs (CudaGraphs.cs): optional, so that a driver without them still runs eagerly; GraphsMissing says why not.
    public static delegate* unmanaged<nint, int, int> cuStreamBeginCapture;
    public static delegate* unmanaged<nint, nint*, int> cuStreamEndCapture;
    public static delegate* unmanaged<nint, int*, int> cuStreamIsCapturing;
    public static delegate* unmanaged<int*, int> cuThreadExchangeStreamCaptureMode;
    public static delegate* unmanaged<nint*, nint, ulong, int> cuGraphInstantiateWithFlags;
    public static delegate* unmanaged<nint, nint, int> cuGraphLaunch;
    public static delegate* unmanaged<nint, int> cuGraphExecDestroy;
    public static delegate* unmanaged<nint, int> cuGraphDestroy;

    // Constants of cuda.h used here.
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public const uint CU_STREAM_NON_BLOCKING = 1;
    public const uint CU_EVENT_DEFAULT = 0;
    public const uint CU_EVENT_DISABLE_TIMING = 2;
    public const int CU_JIT_ERROR_LOG_BUFFER = 5;
    public const int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    public const int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public const int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1, CU_STREAM_CAPTURE_MODE_RELAXED = 2;
    public const int CU_STREAM_CAPTURE_STATUS_NONE = 0;

    /// <summary>The graph entry points this driver lacks (it predates CUDA 11.4), or null when it has them all.</summary>
    public static string? GraphsMissing { get; private set; }

    /// <summary>Loads libcuda.so.1 and resolves every entry point; null on success, else why not.</summary>
    public static string? Load()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out var lib))
            return $"{LibraryName} could not be loaded (no NVIDIA driver on this machine, or not on the library path)";
        try
        {
            cuInit = (delegate* unmanaged<uint, int>)Export(lib, "cuInit");
            cuDriverGetVersion = (delegate* unmanaged<int*, int>)Export(lib, "cuDriverGetVersion");
            cuDeviceGetCount = (delegate* unmanaged<int*, int>)Export(lib, "cuDeviceGetCount");
            cuDeviceGet = (delegate* unmanaged<int*, int, int>)Export(lib, "cuDeviceGet");
            cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Export(lib, "cuDeviceGetName");
            cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Export(lib, "cuDeviceGetAttribute");
            cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Export(lib, "cuDevicePrimaryCtxRetain");
            cuCtxSetCurrent = (delegate* unmanaged<nint, int>)Export(lib, "cuCtxSetCurrent");
            cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)Export(lib, "cuMemGetInfo_v2");
            cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)Export(lib, "cuMemAlloc_v2");
            cuMemFree = (delegate* unmanaged<ulong, int>)Export(lib, "cuMemFree_v2");
            cuMemAllocHost = (delegate* unmanaged<void**, nuint, int>)Export(lib, "cuMemAllocHost_v2");
            cuMemFreeHost = (delegate* unmanaged<void*, int>)Export(lib, "cuMemFreeHost");
            cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, nint, int>)Export(lib, "cuMemcpyHtoDAsync_v2");
            cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, nint, int>)Export(lib, "cuMemcpyDtoHAsync_v2");
            cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)Export(lib, "cuMemcpyDtoDAsync_v2");
            cuMemsetD32Async = (delegate* unmanaged<ulong, uint, nuint, nint, int>)Export(lib, "cuMemsetD32Async");
            cuModuleLoadDataEx = (delegate* unmanaged<nint*, void*, uint, int*, void**, int>)Export(lib, "cuModuleLoadDataEx");
            cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Export(lib, "cuModuleGetFunction");
            cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)Export(lib, "cuLaunchKernel");
            cuStreamCreate = (delegate* unmanaged<nint*, uint, int>)Export(lib, "cuStreamCreate");
            cuStreamSynchronize = (delegate* unmanaged<nint, int>)Export(lib, "cuStreamSynchronize");
            cuEventCreate = (delegate* unmanaged<nint*, uint, int>)Export(lib, "cuEventCreate");
            cuEventRecord = (delegate* unmanaged<nint, nint, int>)Export(lib, "cuEventRecord");
            cuEventSynchronize = (delegate* unmanaged<nint, int>)Export(lib, "cuEventSynchronize");
            cuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, int>)Export(lib, "cuEventElapsedTime");
            cuGetErrorName = (delegate* unmanaged<int, byte**, int>)Export(lib, "cuGetErrorName");
            cuGetErrorString = (delegate* unmanaged<int, byte**, int>)Export(lib, "cuGetErrorString");
            LoadGraphs(lib);
        }
        catch (EntryPointNotFoundException e)
        {
            return $"{LibraryName} is too old: {e.Message}";
        }
        return null;
    }

    // cuStreamBeginCapture_v2 takes the capture mode (the unsuffixed export is the CUDA 10.0 entry point without it);
    // cuGraphInstantiateWithFlags is what CUDA 12's cuda.h maps cuGraphInstantiate to.
    private static void LoadGraphs(nint lib)
    {
        var missing = new List<string>();
        nint Optional(string name)
        {
            if (NativeLibrary.TryGetExport(lib, name, out var f)) return f;
            missing.Add(name);
            return 0;
        }
        cuStreamBeginCapture = (delegate* unmanaged<nint, int, int>)Optional("cuStreamBeginCapture_v2");
        cuStreamEndCapture = (delegate* unmanaged<nint, nint*, int>)Optional("cuStreamEndCapture");
        cuStreamIsCapturing = (delegate* unmanaged<nint, int*, int>)Optional("cuStreamIsCapturing");
        cuThreadExchangeStreamCaptureMode = (delegate* unmanaged<int*, int>)Optional("cuThreadExchangeStreamCaptureMode");
        cuGraphInstantiateWithFlags = (delegate* unmanaged<nint*, nint, ulong, int>)Optional("cuGraphInstantiateWithFlags");
        cuGraphLaunch = (delegate* unmanaged<nint, nint, int>)Optional("cuGraphLaunch");
        cuGraphExecDestroy = (delegate* unmanaged<nint, int>)Optional("cuGraphExecDestroy");
        cuGraphDestroy = (delegate* unmanaged<nint, int>)Optional("cuGraphDestroy");
        GraphsMissing = missing.Count == 0 ? null : $"{LibraryName} has no {string.Join(", ", missing)} (CUDA graphs need a CUDA 11.4 or newer driver)";
    }

    private static nint Export(nint lib, string name)
        => NativeLibrary.TryGetExport(lib, name, out var f) ? f : throw new EntryPointNotFoundException($"it has no {name}");

    /// <summary>"CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected".</summary>
    public static string Describe(int result)
    {
        byte* name = null, text = null;
        if (cuGetErrorName is not null) cuGetErrorName(result, &name);
        if (cuGetErrorString is not null) cuGetErrorString(result, &text);
        string n = name is null ? "CUDA_ERROR" : Marshal.PtrToStringUTF8((nint)name)!;
        string t = text is null ? "unknown error" : Marshal.PtrToStringUTF8((nint)text)!;
        return $"{n} ({result}): {t}";
    }

    public static void Check(int result, string call)
    {
        if (result != 0) throw new CudaException($"{call} failed: {Describe(result)}");
    }
}
