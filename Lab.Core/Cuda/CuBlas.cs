using System.Runtime.InteropServices;

namespace Lab.Core.Cuda;

/// <summary>
/// cuBLAS, found where CUDA installs usually put it: the loader's own search (LD_LIBRARY_PATH, ldconfig),
/// the CUDA toolkit folders, and the pip wheel nvidia-cublas-cu12 (which PyTorch installs) in any
/// Python's site- or dist-packages. LAB_CUBLAS names a file explicitly.
/// </summary>
internal static unsafe class CuBlas
{
    public static delegate* unmanaged<nint*, int> cublasCreate;
    public static delegate* unmanaged<nint, nint, int> cublasSetStream;
    public static delegate* unmanaged<nint, int*, int> cublasGetVersion;
    /// <summary>Null in a cuBLAS too old to have it; then GEMMs are not captured into graphs (BeginCapture says so).</summary>
    public static delegate* unmanaged<nint, ulong, nuint, int> cublasSetWorkspace;
    public static delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int> cublasSgemm;
    public static delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int> cublasSgemmStridedBatched;

    public const int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;

    /// <summary>The file that was loaded (for diagnostics).</summary>
    public static string? LoadedFrom { get; private set; }

    private static readonly string[] Names = ["libcublas.so.12", "libcublas.so.11", "libcublas.so"];

    /// <summary>Null on success, else why cuBLAS is unusable.</summary>
    public static string? Load()
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            tried.Add(candidate);
            // A wheel's libcublas finds its libcublasLt beside it only if the loader is told.
            if (Path.GetDirectoryName(candidate) is { Length: > 0 } dir)
                foreach (var lt in new[] { "libcublasLt.so.12", "libcublasLt.so.11" })
                    if (File.Exists(Path.Combine(dir, lt))) NativeLibrary.TryLoad(Path.Combine(dir, lt), out _);
            if (!NativeLibrary.TryLoad(candidate, out var lib)) continue;
            if (!NativeLibrary.TryGetExport(lib, "cublasCreate_v2", out var create)) continue;
            cublasCreate = (delegate* unmanaged<nint*, int>)create;
            cublasSetStream = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(lib, "cublasSetStream_v2");
            cublasGetVersion = (delegate* unmanaged<nint, int*, int>)NativeLibrary.GetExport(lib, "cublasGetVersion_v2");
            cublasSgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int>)
                NativeLibrary.GetExport(lib, "cublasSgemm_v2");
            cublasSgemmStridedBatched = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int>)
                NativeLibrary.GetExport(lib, "cublasSgemmStridedBatched");
            cublasSetWorkspace = NativeLibrary.TryGetExport(lib, "cublasSetWorkspace_v2", out var workspace)
                ? (delegate* unmanaged<nint, ulong, nuint, int>)workspace : null;
            LoadedFrom = candidate;
            return null;
        }
        return $"cuBLAS not found (tried {string.Join(", ", tried.Distinct())}); install the CUDA toolkit or pip's nvidia-cublas-cu12, or set LAB_CUBLAS to the library file";
    }

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("LAB_CUBLAS") is { Length: > 0 } explicitPath) yield return explicitPath;
        foreach (var name in Names) yield return name; // the loader's search path
        foreach (var dir in Folders())
            foreach (var name in Names)
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path)) yield return path;
            }
    }

    private static IEnumerable<string> Folders()
    {
        var dirs = new List<string>();
        foreach (var env in new[] { "LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH" })
            foreach (var part in (Environment.GetEnvironmentVariable(env) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                dirs.Add(part);
                dirs.Add(Path.Combine(part, "lib64"));
            }
        dirs.AddRange(["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"]);
        dirs.AddRange(Glob("/usr/local", "cuda-*", "lib64"));
        // pip wheels: <prefix>/lib/python3.X/{site,dist}-packages/nvidia/cublas/lib
        var prefixes = new List<string> { "/usr/local", "/usr", "/opt/conda", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local") };
        foreach (var env in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (Environment.GetEnvironmentVariable(env) is { Length: > 0 } p) prefixes.Insert(0, p);
        foreach (var prefix in prefixes)
            foreach (var py in Glob(Path.Combine(prefix, "lib"), "python3*", ""))
                foreach (var packages in new[] { "site-packages", "dist-packages" })
                {
                    dirs.Add(Path.Combine(py, packages, "nvidia", "cublas", "lib"));
                    dirs.Add(Path.Combine(py, packages, "torch", "lib"));
                }
        foreach (var packages in new[] { "/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages" })
            dirs.Add(Path.Combine(packages, "nvidia", "cublas", "lib"));
        return dirs.Where(Directory.Exists).Distinct();
    }

    private static IEnumerable<string> Glob(string parent, string pattern, string child)
    {
        if (!Directory.Exists(parent)) return [];
        try { return Directory.GetDirectories(parent, pattern).Order().Select(d => child.Length == 0 ? d : Path.Combine(d, child)); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException($"{call} failed: {StatusName(status)} ({status})");
    }

    private static string StatusName(int status) => status switch
    {
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => "CUBLAS_STATUS_UNKNOWN",
    };
}
