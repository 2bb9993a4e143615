using System.Runtime.InteropServices;

namespace Lab.Core.Distributed;

/// <summary>
/// NCCL's C API (libnccl.so.2, installed with CUDA, by the nvidia-nccl-cu12 wheel or with PyTorch), bound at run time.
/// LAB_NCCL names a file explicitly.
/// </summary>
internal static unsafe class Nccl
{
    /// <summary>ncclUniqueId: 128 opaque bytes, made by rank 0 and sent to the others (here over MPI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UniqueId { public fixed byte Bytes[128]; }

    public static delegate* unmanaged<UniqueId*, int> GetUniqueId;
    public static delegate* unmanaged<nint*, int, UniqueId, int, int> CommInitRank;
    public static delegate* unmanaged<nint, int> CommDestroy;
    public static delegate* unmanaged<ulong, ulong, nuint, int, int, nint, nint, int> AllReduce;
    public static delegate* unmanaged<ulong, ulong, nuint, int, int, nint, nint, int> Broadcast;
    public static delegate* unmanaged<int, nint> GetErrorString;
    public static delegate* unmanaged<int*, int> GetVersion;

    public const int Float32 = 7, RedSum = 0;

    private static readonly LibraryGate Gate = new(TryLoad);

    public static void Load() => Gate.Load();

    private static string? TryLoad()
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            tried.Add(candidate);
            if (!NativeLibrary.TryLoad(candidate, out var lib) || !NativeLibrary.TryGetExport(lib, "ncclCommInitRank", out var init)) continue;
            CommInitRank = (delegate* unmanaged<nint*, int, UniqueId, int, int>)init;
            GetUniqueId = (delegate* unmanaged<UniqueId*, int>)NativeLibrary.GetExport(lib, "ncclGetUniqueId");
            CommDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "ncclCommDestroy");
            AllReduce = (delegate* unmanaged<ulong, ulong, nuint, int, int, nint, nint, int>)NativeLibrary.GetExport(lib, "ncclAllReduce");
            Broadcast = (delegate* unmanaged<ulong, ulong, nuint, int, int, nint, nint, int>)NativeLibrary.GetExport(lib, "ncclBroadcast");
            GetErrorString = (delegate* unmanaged<int, nint>)NativeLibrary.GetExport(lib, "ncclGetErrorString");
            GetVersion = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(lib, "ncclGetVersion");
            return null;
        }
        return $"NCCL not found (tried {string.Join(", ", tried.Distinct())}): install libnccl2 (NVIDIA's CUDA repository) or pip's nvidia-nccl-cu12, or set LAB_NCCL to libnccl.so.2";
    }

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("LAB_NCCL") is { Length: > 0 } explicitPath) { yield return explicitPath; yield break; }
        yield return "libnccl.so.2";
        yield return "libnccl.so";
        var prefixes = new List<string> { "/usr/local", "/usr", "/opt/conda", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local") };
        foreach (var env in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (Environment.GetEnvironmentVariable(env) is { Length: > 0 } p) prefixes.Insert(0, p);
        foreach (var prefix in prefixes)
        {
            var lib = Path.Combine(prefix, "lib");
            if (!Directory.Exists(lib)) continue;
            foreach (var py in Directory.EnumerateDirectories(lib, "python3*"))
                foreach (var packages in new[] { "site-packages", "dist-packages" })
                    foreach (var dir in new[] { Path.Combine(py, packages, "nvidia", "nccl", "lib"), Path.Combine(py, packages, "torch", "lib") })
                        if (File.Exists(Path.Combine(dir, "libnccl.so.2"))) yield return Path.Combine(dir, "libnccl.so.2");
        }
    }

    public static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"NCCL: {call} failed: {Marshal.PtrToStringUTF8(GetErrorString(code)) ?? $"error {code}"}");
    }

    public static string Version()
    {
        int v;
        if (GetVersion(&v) != 0) return "NCCL";
        // NCCL_VERSION_CODE: major*10000 + minor*100 + patch since 2.9 (major*1000 + minor*100 + patch before).
        return v >= 10000 ? $"NCCL {v / 10000}.{v / 100 % 100}.{v % 100}" : $"NCCL {v / 1000}.{v / 100 % 10}.{v % 100}";
    }
}
