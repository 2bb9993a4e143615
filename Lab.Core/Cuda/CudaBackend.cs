using System.Runtime.InteropServices;
using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>
/// The CUDA backend of one device: the device's primary context, one non-blocking stream on which every
/// copy, kernel and GEMM is queued in order (the host waits only in downloads), cuBLAS bound to that
/// stream, the embedded PTX kernels, and a caching allocator. Created on first use of cuda:N.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend
{
    private static readonly Lock CreateLock = new();
    private static readonly Dictionary<int, CudaBackend> Backends = [];
    private static readonly Dictionary<int, string> Failures = [];
    private static volatile CudaBackend?[] _ready = []; // read without the lock by every allocation

    [ThreadStatic] private static nint t_currentContext;

    private readonly nint _context, _stream, _blas;
    private readonly nint[] _functions;
    private readonly ulong _errorFlag;
    private readonly int* _errorHost;
    private readonly PinnedStaging _staging;
    private readonly int _maxBlocks;

    internal CudaAllocator Allocator { get; }

    public Device Device { get; }
    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string Name { get; }
    public int MultiprocessorCount { get; }
    public string ComputeCapability { get; }
    /// <summary>Device memory in bytes.</summary>
    public long TotalMemory { get; }
    public CudaMemoryStats MemoryStats => Allocator.Stats;

    /// <summary>
    /// Registers <see cref="ForDevice"/> for <see cref="DeviceType.Cuda"/> when Lab.Core loads, through the same public
    /// hook any other backend uses. Nothing is probed here: the driver is looked for on the first use of a CUDA device.
    /// </summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Registration at load time is what a backend module does.")]
    internal static void RegisterWithRegistry() => BackendRegistry.Register(DeviceType.Cuda, ForDevice);

    /// <summary>The backend of cuda:<paramref name="index"/>; throws DeviceUnavailableException when CUDA cannot be used.</summary>
    public static CudaBackend ForDevice(int index)
    {
        var ready = _ready;
        if ((uint)index < (uint)ready.Length && ready[index] is { } known) return known;
        lock (CreateLock)
        {
            if (Backends.TryGetValue(index, out var b)) return b;
            if (Failures.TryGetValue(index, out var why)) throw new DeviceUnavailableException(why);
            CudaRuntime.Require(index);
            try
            {
                b = new CudaBackend(index);
            }
            catch (CudaException e)
            {
                Failures[index] = $"CUDA not available: setting up cuda:{index} failed: {e.Message}";
                throw new DeviceUnavailableException(Failures[index]);
            }
            Backends[index] = b;
            var grown = new CudaBackend?[Math.Max(_ready.Length, index + 1)];
            _ready.CopyTo(grown, 0);
            grown[index] = b;
            _ready = grown;
            return b;
        }
    }

    private CudaBackend(int index)
    {
        Device = Device.Cuda(index);
        int dev;
        CudaDriver.Check(CudaDriver.cuDeviceGet(&dev, index), "cuDeviceGet");
        nint ctx;
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
        _context = ctx;
        Enter();
        byte* name = stackalloc byte[256];
        CudaDriver.Check(CudaDriver.cuDeviceGetName(name, 256, dev), "cuDeviceGetName");
        Name = Marshal.PtrToStringUTF8((nint)name) ?? "CUDA device";
        int sms, major, minor;
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(&sms, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev), "cuDeviceGetAttribute");
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(&major, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(&minor, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
        (MultiprocessorCount, ComputeCapability) = (sms, $"{major}.{minor}");
        _maxBlocks = Math.Max(sms, 1) * 32;
        nint stream;
        CudaDriver.Check(CudaDriver.cuStreamCreate(&stream, CudaDriver.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        _stream = stream;
        nint blas;
        CuBlas.Check(CuBlas.cublasCreate(&blas), "cublasCreate");
        CuBlas.Check(CuBlas.cublasSetStream(blas, stream), "cublasSetStream");
        SetBlasWorkspace(blas, major); // after cublasSetStream, which resets it
        _blas = blas;
        _functions = LoadKernels();
        nuint free, total;
        CudaDriver.Check(CudaDriver.cuMemGetInfo(&free, &total), "cuMemGetInfo");
        TotalMemory = (long)total;
        Allocator = new CudaAllocator(() => CudaDriver.Check(CudaDriver.cuStreamSynchronize(_stream), "cuStreamSynchronize"), TotalMemory);
        _staging = new PinnedStaging();
        ulong flag;
        CudaDriver.Check(CudaDriver.cuMemAlloc(&flag, 4), "cuMemAlloc");
        _errorFlag = flag;
        CudaDriver.Check(CudaDriver.cuMemsetD32Async(flag, 0, 1, _stream), "cuMemsetD32Async");
        void* host;
        CudaDriver.Check(CudaDriver.cuMemAllocHost(&host, 4), "cuMemAllocHost");
        _errorHost = (int*)host;
        *_errorHost = 0;
    }

    private static nint[] LoadKernels()
    {
        var functions = new nint[Kernels.All.Count];
        foreach (var group in Kernels.All.GroupBy(k => k.Module))
        {
            var module = LoadModule(group.Key);
            foreach (var k in group)
            {
                nint f;
                var name = System.Text.Encoding.ASCII.GetBytes(k.Name + "\0");
                fixed (byte* n = name) CudaDriver.Check(CudaDriver.cuModuleGetFunction(&f, module, n), $"cuModuleGetFunction({k.Name})");
                functions[k.Id] = f;
            }
        }
        return functions;
    }

    // The driver JIT-compiles the PTX for this GPU; its error log says why when it cannot.
    private static nint LoadModule(string name)
    {
        var ptx = System.Text.Encoding.ASCII.GetBytes(Kernels.Ptx(name) + "\0");
        const int logSize = 8192;
        byte* log = stackalloc byte[logSize];
        log[0] = 0;
        int* options = stackalloc int[2] { CudaDriver.CU_JIT_ERROR_LOG_BUFFER, CudaDriver.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES };
        void** values = stackalloc void*[2] { log, (void*)logSize };
        nint module;
        int r;
        fixed (byte* image = ptx) r = CudaDriver.cuModuleLoadDataEx(&module, image, 2, options, values);
        if (r != 0)
            throw new CudaException($"loading kernel module {name}.ptx failed: {CudaDriver.Describe(r)}: {Marshal.PtrToStringUTF8((nint)log)}");
        return module;
    }

    /// <summary>Makes this device's context current on the calling thread (cheap when it already is).</summary>
    private void Enter()
    {
        _graphs?.ThrowIfOtherThread();
        if (t_currentContext == _context) return;
        CudaDriver.Check(CudaDriver.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        t_currentContext = _context;
    }

    private DevicePtr Ptr(in StorageView t)
    {
        if (t.Storage is CudaStorage s && ReferenceEquals(s.Backend, this)) return new(s.Pointer + (ulong)t.Offset * sizeof(float));
        throw new ArgumentException($"A tensor of shape {ShapeUtil.Format(t.Shape)} on {(t.IsNone ? "no device" : t.Device)} was passed to a kernel on {Device}; move it with To({Device}) first.");
    }

    private static DevicePtr PtrOrNull(CudaBackend b, in StorageView t) => t.IsNone ? DevicePtr.Null : b.Ptr(t);

    // ---- launches ----

    private int Grid(long n, int block = 256) => (int)Math.Clamp((n + block - 1) / block, 1, _maxBlocks);

    /// <summary>A grid-stride kernel over n elements with 256-thread blocks (nothing to do for n = 0).</summary>
    private void LaunchN(KernelSpec k, int n, params ReadOnlySpan<Arg> args)
    {
        if (n > 0) Launch(k, Grid(n), 256, 1, args);
    }

    private void Launch(KernelSpec k, int grid, int blockX, int blockY, params ReadOnlySpan<Arg> args)
    {
        Span<byte> buffer = stackalloc byte[512];
        Span<char> signature = stackalloc char[64];
        int size = 0, sig = 0;
        foreach (ref readonly var a in args)
        {
            switch (a.Kind)
            {
                case 'p':
                    size = (size + 7) & ~7;
                    MemoryMarshal.Write(buffer[size..], a.Bits);
                    size += 8;
                    signature[sig++] = 'p';
                    break;
                case 'i' or 'f':
                    size = (size + 3) & ~3;
                    MemoryMarshal.Write(buffer[size..], (uint)a.Bits);
                    size += 4;
                    signature[sig++] = a.Kind;
                    break;
                default:
                    size = (size + 3) & ~3;
                    for (int i = 0; i < a.Count; i++) MemoryMarshal.Write(buffer[(size + 4 * i)..], a.Ints[i]);
                    size += 4 * a.Count;
                    signature[sig++] = '[';
                    (4 * a.Count).TryFormat(signature[sig..], out int written);
                    sig += written;
                    signature[sig++] = ']';
                    break;
            }
        }
        if (!signature[..sig].SequenceEqual(k.Signature))
            throw new InvalidOperationException($"Kernel {k.Name} takes ({k.Signature}) but was launched with ({signature[..sig]}).");
        nuint bytes = (nuint)size;
        fixed (byte* p = buffer)
        {
            // CU_LAUNCH_PARAM_BUFFER_POINTER, the packed arguments, CU_LAUNCH_PARAM_BUFFER_SIZE, their size, CU_LAUNCH_PARAM_END.
            void** extra = stackalloc void*[5] { (void*)1, p, (void*)2, &bytes, null };
            CudaDriver.Check(CudaDriver.cuLaunchKernel(_functions[k.Id], (uint)grid, 1, 1, (uint)blockX, (uint)blockY, 1, 0, _stream, null, extra),
                $"cuLaunchKernel({k.Name})");
        }
    }

    // ---- memory ----

    public Storage Allocate(int length, bool zero)
    {
        Enter();
        var s = new CudaStorage(this, length);
        if (zero && length > 0) CudaDriver.Check(CudaDriver.cuMemsetD32Async(s.Pointer, 0, (nuint)length, _stream), "cuMemsetD32Async");
        return s;
    }

    public void Upload(ReadOnlySpan<float> src, in StorageView dst)
    {
        Enter();
        ThrowIfCapturing("Upload (a host-to-device copy)", "a graph would copy from the staging buffer as it is at each launch, not from this data");
        _staging.Upload(src[..Math.Min(src.Length, dst.Numel)], Ptr(dst).Address, _stream);
    }

    /// <summary>Copies to the host and waits for it: the one place the host waits for the GPU.</summary>
    public void Download(in StorageView src, Span<float> dst)
    {
        Enter();
        ThrowIfCapturing("Download (ToArray, Item)", "reading a device value waits for the GPU, and nothing captured has run");
        int n = Math.Min(src.Numel, dst.Length);
        if (n > 0)
            fixed (float* p = dst) CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync(p, Ptr(src).Address, (nuint)n * sizeof(float), _stream), "cuMemcpyDtoHAsync");
        Synchronize();
    }

    /// <summary>Waits for all queued work; reports an asynchronous kernel failure or a bad index seen by a kernel.</summary>
    public void Synchronize()
    {
        Enter();
        ThrowIfCapturing("Synchronize", "waiting for the GPU cannot be recorded");
        CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync(_errorHost, _errorFlag, sizeof(int), _stream), "cuMemcpyDtoHAsync");
        CudaDriver.Check(CudaDriver.cuStreamSynchronize(_stream), "cuStreamSynchronize");
        if (*_errorHost == 0) return;
        *_errorHost = 0;
        CudaDriver.Check(CudaDriver.cuMemsetD32Async(_errorFlag, 0, 1, _stream), "cuMemsetD32Async");
        throw new ArgumentException($"{Device}: an IndexSelect, Gather or gradient kernel was given an index that is not an integer inside the indexed axis (those elements are NaN or were skipped).");
    }

    /// <summary>Milliseconds of GPU time that <paramref name="work"/> queues, measured with events (waits for it).</summary>
    public float Time(Action work)
    {
        Enter();
        ThrowIfCapturing("Time", "timing waits for the GPU");
        nint start, stop;
        CudaDriver.Check(CudaDriver.cuEventCreate(&start, CudaDriver.CU_EVENT_DEFAULT), "cuEventCreate");
        CudaDriver.Check(CudaDriver.cuEventCreate(&stop, CudaDriver.CU_EVENT_DEFAULT), "cuEventCreate");
        CudaDriver.Check(CudaDriver.cuEventRecord(start, _stream), "cuEventRecord");
        work();
        Enter();
        CudaDriver.Check(CudaDriver.cuEventRecord(stop, _stream), "cuEventRecord");
        CudaDriver.Check(CudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
        float ms;
        CudaDriver.Check(CudaDriver.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
        return ms;
    }

    /// <summary>Returns the allocator's cached blocks to the driver.</summary>
    public void EmptyCache()
    {
        Enter();
        ThrowIfCapturing("EmptyCache", "freeing device memory waits for the GPU");
        Allocator.EmptyCache();
    }

    public void Copy(in StorageView src, in StorageView dst)
    {
        Enter();
        if (src.Numel == 0) return;
        CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync(Ptr(dst).Address, Ptr(src).Address, (nuint)src.Numel * sizeof(float), _stream), "cuMemcpyDtoDAsync");
    }

    public void Fill(in StorageView dst, float value)
    {
        Enter();
        if (dst.Numel == 0) return;
        CudaDriver.Check(CudaDriver.cuMemsetD32Async(Ptr(dst).Address, BitConverter.SingleToUInt32Bits(value), (nuint)dst.Numel, _stream), "cuMemsetD32Async");
    }

    private void Zero(DevicePtr p, long count)
    {
        if (count > 0) CudaDriver.Check(CudaDriver.cuMemsetD32Async(p.Address, 0, (nuint)count, _stream), "cuMemsetD32Async");
    }

    /// <summary>A temporary device buffer for one op; returning it right after queueing the work is safe (one stream).</summary>
    private Scratch Rent(long floats) => new(this, floats);

    private readonly struct Scratch : IDisposable
    {
        private readonly CudaBackend _owner;
        private readonly long _bytes;
        public readonly DevicePtr Ptr;

        public Scratch(CudaBackend owner, long floats)
        {
            _owner = owner;
            Ptr = floats == 0 ? DevicePtr.Null : new(owner.Allocator.Rent(floats * sizeof(float), out _bytes));
        }

        public DevicePtr At(long floatOffset) => new(Ptr.Address + (ulong)floatOffset * sizeof(float));

        public void Dispose()
        {
            if (Ptr.Address != 0) _owner.Allocator.Return(Ptr.Address, _bytes);
        }
    }
}
