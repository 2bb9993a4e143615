using System.Runtime.InteropServices;

namespace Lab.Core.Distributed;

/// <summary>
/// The few MPI C functions GenLab calls, bound at run time from Open MPI's libmpi (Debian: apt-get install openmpi-bin;
/// LAB_MPI names a file explicitly). Open MPI's handles are not integer constants: MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM
/// are the addresses of exported objects (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum), read once here.
/// The library is opened RTLD_GLOBAL, as Open MPI's plugins expect to find its symbols.
/// </summary>
internal static unsafe class Mpi
{
    public static delegate* unmanaged<int*, int> Initialized, Finalized;
    public static delegate* unmanaged<int*, byte***, int> Init;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<nint, int*, int> CommRank, CommSize;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public static delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public static delegate* unmanaged<nint, int> Barrier;
    public static delegate* unmanaged<nint, int, int> Abort;
    public static delegate* unmanaged<byte*, int*, int> GetLibraryVersion;
    public static delegate* unmanaged<int, byte*, int*, int> ErrorString;

    public static nint CommWorld, Float, Double, Byte, OpSum;
    /// <summary>Open MPI's MPI_IN_PLACE: ((void *) 1).</summary>
    public static readonly void* InPlace = (void*)1;

    private static readonly string[] Names = ["libmpi.so.40", "libmpi.so"];
    private static readonly LibraryGate Gate = new(TryLoad);

    /// <summary>Loads the library once; throws DllNotFoundException naming what to install when it cannot.</summary>
    public static void Load() => Gate.Load();

    private static string? TryLoad()
    {
        var tried = new List<string>();
        var explicitPath = Environment.GetEnvironmentVariable("LAB_MPI");
        foreach (var candidate in explicitPath is { Length: > 0 } ? [explicitPath] : Names)
        {
            tried.Add(candidate);
            var lib = DlOpenGlobal(candidate);
            if (lib == 0) continue;
            if (!NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out CommWorld))
                return $"MPI: {candidate} is not Open MPI (GenLab binds Open MPI's ABI); install openmpi-bin (apt-get install openmpi-bin) or set LAB_MPI to Open MPI's libmpi.so";
            Float = NativeLibrary.GetExport(lib, "ompi_mpi_float");
            Double = NativeLibrary.GetExport(lib, "ompi_mpi_double");
            Byte = NativeLibrary.GetExport(lib, "ompi_mpi_byte");
            OpSum = NativeLibrary.GetExport(lib, "ompi_mpi_op_sum");
            Initialized = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(lib, "MPI_Initialized");
            Finalized = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(lib, "MPI_Finalized");
            Init = (delegate* unmanaged<int*, byte***, int>)NativeLibrary.GetExport(lib, "MPI_Init");
            Finalize = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "MPI_Finalize");
            CommRank = (delegate* unmanaged<nint, int*, int>)NativeLibrary.GetExport(lib, "MPI_Comm_rank");
            CommSize = (delegate* unmanaged<nint, int*, int>)NativeLibrary.GetExport(lib, "MPI_Comm_size");
            Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)NativeLibrary.GetExport(lib, "MPI_Allreduce");
            Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)NativeLibrary.GetExport(lib, "MPI_Bcast");
            Barrier = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "MPI_Barrier");
            Abort = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(lib, "MPI_Abort");
            GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)NativeLibrary.GetExport(lib, "MPI_Get_library_version");
            ErrorString = (delegate* unmanaged<int, byte*, int*, int>)NativeLibrary.GetExport(lib, "MPI_Error_string");
            return null;
        }
        return $"MPI not found (tried {string.Join(", ", tried)}): install Open MPI (apt-get install openmpi-bin), or set LAB_MPI to its libmpi.so";
    }

    private const int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;

    private static nint DlOpenGlobal(string name)
    {
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "dlopen", out var dlopen))
            return NativeLibrary.TryLoad(name, out var plain) ? plain : 0;
        var open = (delegate* unmanaged<byte*, int, nint>)dlopen;
        var bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes) return open(p, RTLD_NOW | RTLD_GLOBAL);
    }

    /// <summary>Throws with MPI's own words for a failed call (the default error handler aborts first; this is for the rest).</summary>
    public static void Check(int code, string call)
    {
        if (code == 0) return;
        byte* text = stackalloc byte[512];
        int length = 0;
        string message = ErrorString(code, text, &length) == 0 ? Marshal.PtrToStringUTF8((nint)text, length) : $"error {code}";
        throw new InvalidOperationException($"MPI: {call} failed: {message}");
    }

    public static string LibraryVersion()
    {
        byte* text = stackalloc byte[512];
        int length = 0;
        if (GetLibraryVersion(text, &length) != 0) return "MPI";
        var full = Marshal.PtrToStringUTF8((nint)text, length).Trim('\0', ' ', '\n');
        int comma = full.IndexOf(',');
        return comma > 0 ? full[..comma] : full;
    }
}
