using System.Numerics;
using System.Numerics.Tensors;

namespace Lab.Core.Backends;

/// <summary>
/// The host backend: managed arrays, TensorPrimitives for vectorised element-wise work, our own
/// GEMM and convolution kernels. Kernels trust the shapes that the ops validated.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();

    private CpuBackend() { }

    /// <summary>Registers the host backend for <see cref="DeviceType.Cpu"/> when Lab.Core loads, through the public hook.</summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Registration at load time is what a backend module does.")]
    internal static void RegisterWithRegistry() => BackendRegistry.Register(DeviceType.Cpu, static _ => Instance);

    public Device Device => Device.Cpu;

    /// <summary>Outputs that kernels overwrite skip the zeroing (they are most of a step's allocations).</summary>
    public Storage Allocate(int length, bool zero)
    {
        if (length == 0) return new CpuStorage([]);
        if (TensorScope.TryRent(length) is { } pooled)
        {
            var span = pooled.Data.AsSpan();
            if (zero) span.Clear();
            else if (PoisonUninitialized) span.Fill(float.NaN);
            return pooled;
        }
        if (zero) return new CpuStorage(new float[length]);
        var data = GC.AllocateUninitializedArray<float>(length);
        if (PoisonUninitialized) data.AsSpan().Fill(float.NaN);
        return new CpuStorage(data);
    }

    /// <summary>
    /// GENLAB_POISON_ALLOC=1 fills every uninitialised allocation with NaN, so that a kernel that reads an
    /// output before writing it shows up in the tests (small arrays come zeroed from the runtime anyway).
    /// </summary>
    private static readonly bool PoisonUninitialized = Environment.GetEnvironmentVariable("GENLAB_POISON_ALLOC") == "1";

    public void Upload(ReadOnlySpan<float> src, in StorageView dst) => src.CopyTo(dst.Span);
    public void Download(in StorageView src, Span<float> dst) => src.Span.CopyTo(dst);
    public void Copy(in StorageView src, in StorageView dst) => src.Span.CopyTo(dst.Span);
    public void Fill(in StorageView dst, float value) => dst.Span.Fill(value);
    public void Axpy(float alpha, in StorageView x, in StorageView y)
    {
        if (alpha == 1f) TensorPrimitives.Add(y.Span, x.Span, y.Span);
        else TensorPrimitives.MultiplyAdd(x.Span, alpha, y.Span, y.Span);
    }

    public unsafe void Unary(UnaryOp op, in StorageView x, in StorageView y, float alpha = 0, float beta = 0)
    {
        ReadOnlySpan<float> s = x.Span;
        Span<float> d = y.Span;
        fixed (float* ps = s, pd = d)
            Elementwise(new ElementwiseJob { Op = op, X = ps, Y = pd, Length = d.Length, Alpha = alpha, Beta = beta });
    }

    /// <summary>An element-wise kernel over raw pointers: a unary op (Y = f(X)) or a rectifier gradient (Y = X &gt; 0 ? G : slope G).</summary>
    private unsafe struct ElementwiseJob
    {
        public UnaryOp Op;
        public bool RectifierGradient;
        public float* X, G, Y;
        public int Length;
        public float Alpha, Beta;
    }

    /// <summary>
    /// Runs a job in one piece, or, for large tensors (a CNN's activations), in contiguous slices on the worker pool:
    /// element-wise, so the bits are the same either way.
    /// </summary>
    private static unsafe void Elementwise(ElementwiseJob job)
    {
        int threads = job.Length >= MinElementsForThreads ? Cpu.Gemm.MaxThreads : 1;
        Cpu.WorkerPool.Run(threads > 1 ? 2 * threads : 1, threads, &ElementwisePart, &job);
    }

    private static unsafe void ElementwisePart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(ElementwiseJob*)state;
        var (start, end) = Cpu.WorkerPool.Slice(job.Length, 64, parts, part);
        int n = end - start;
        var x = new ReadOnlySpan<float>(job.X + start, n);
        var y = new Span<float>(job.Y + start, n);
        if (job.RectifierGradient) RectifierGrad(x, new ReadOnlySpan<float>(job.G + start, n), y, job.Alpha);
        else UnarySlice(job.Op, x, y, job.Alpha, job.Beta);
    }

    /// <summary>
    /// 1 / (1 + exp(-x)), which underflows to 0 below x = -88.7 where exp(-x) overflows; there, and down to -80,
    /// 1 + exp(x) rounds to 1, so sigmoid(x) is exp(x), a subnormal (PyTorch: sigmoid(-90) = 8.2e-40, and so
    /// softplus'(-90)).
    /// </summary>
    private static void Sigmoid(ReadOnlySpan<float> x, Span<float> d)
    {
        TensorPrimitives.Sigmoid(x, d);
        // A vectorised minimum first: the scalar fix-up pass runs only where such inputs exist.
        if (x.Length == 0 || !(TensorPrimitives.Min(x) < -80f)) return;
        for (int i = 0; i < d.Length; i++)
            if (x[i] < -80f) d[i] = MathF.Exp(x[i]);
    }

    private static void UnarySlice(UnaryOp op, ReadOnlySpan<float> s, Span<float> d, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(s, d); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(s, d); break;
            case UnaryOp.Log: TensorPrimitives.Log(s, d); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(s, d); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(s, d); break;
            case UnaryOp.Sigmoid: Sigmoid(s, d); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(s, d); break;
            case UnaryOp.Relu: TensorPrimitives.Max(s, 0f, d); break;
            case UnaryOp.Affine:
                if (beta == 0) TensorPrimitives.Multiply(s, alpha, d);
                else { TensorPrimitives.Multiply(s, alpha, d); TensorPrimitives.Add(d, beta, d); }
                break;
            case UnaryOp.Clamp:
                TensorPrimitives.Max(s, alpha, d);
                TensorPrimitives.Min(d, beta, d);
                break;
            case UnaryOp.Pow:
                if (alpha == 2) TensorPrimitives.Multiply(s, s, d);
                else if (alpha == 0) d.Fill(1f);
                else for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(s[i], alpha);
                break;
            case UnaryOp.Sign:
                for (int i = 0; i < d.Length; i++) d[i] = s[i] > 0 ? 1f : s[i] < 0 ? -1f : s[i]; // keeps 0 and NaN
                break;
            case UnaryOp.LeakyRelu: LeakyRelu(s, d, alpha); break;
            case UnaryOp.Softplus:
                // max(x, 0) + log1p(exp(-|x|)): exact for large |x| where log(1 + exp(x)) overflows, and
                // log1p keeps exp(-|x|) where 1 + exp(-|x|) rounds to 1 (x below about -37).
                Cpu.SoftplusKernel.Forward(s, d);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary op.");
        }
    }

    public void UnaryGrad(UnaryOp op, in StorageView x, in StorageView y, in StorageView dy, in StorageView dx, float alpha = 0, float beta = 0)
    {
        ReadOnlySpan<float> xs = x.Span, ys = y.Span, g = dy.Span;
        Span<float> d = dx.Span;
        switch (op)
        {
            case UnaryOp.Exp: TensorPrimitives.Multiply(g, ys, d); break;
            case UnaryOp.Log: TensorPrimitives.Divide(g, xs, d); break;
            case UnaryOp.Sqrt: for (int i = 0; i < d.Length; i++) d[i] = g[i] * 0.5f / ys[i]; break;
            case UnaryOp.Abs: for (int i = 0; i < d.Length; i++) d[i] = xs[i] > 0 ? g[i] : xs[i] < 0 ? -g[i] : 0f; break;
            case UnaryOp.Sign: d.Clear(); break;
            case UnaryOp.Relu: ParallelRectifierGrad(xs, g, d, 0f); break;
            case UnaryOp.LeakyRelu: ParallelRectifierGrad(xs, g, d, alpha); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Subtract(1f, ys, d); TensorPrimitives.Multiply(d, ys, d); TensorPrimitives.Multiply(d, g, d); break;
            case UnaryOp.Tanh: TensorPrimitives.Multiply(ys, ys, d); TensorPrimitives.Subtract(1f, d, d); TensorPrimitives.Multiply(d, g, d); break;
            case UnaryOp.Softplus: Sigmoid(xs, d); TensorPrimitives.Multiply(d, g, d); break;
            case UnaryOp.Pow:
                if (alpha == 2) { TensorPrimitives.Multiply(xs, 2f, d); TensorPrimitives.Multiply(d, g, d); }   // (2 x) g, as the scalar loop rounded
                else for (int i = 0; i < d.Length; i++) d[i] = g[i] * alpha * MathF.Pow(xs[i], alpha - 1);
                break;
            case UnaryOp.Clamp: for (int i = 0; i < d.Length; i++) d[i] = xs[i] >= alpha && xs[i] <= beta ? g[i] : 0f; break;
            case UnaryOp.Neg: TensorPrimitives.Negate(g, d); break;
            case UnaryOp.Affine: TensorPrimitives.Multiply(g, alpha, d); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary op.");
        }
    }

    /// <summary>Element-wise gradients are split over threads from this many elements (memory-bound: two cores stream faster than one).</summary>
    internal static int MinElementsForThreads { get; set; } = 1 << 16;

    /// <summary><see cref="RectifierGrad"/> through <see cref="Elementwise"/> (split over threads when the tensor is large).</summary>
    private static unsafe void ParallelRectifierGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d, float slope)
    {
        fixed (float* px = x, pg = g, pd = d)
            Elementwise(new ElementwiseJob { RectifierGradient = true, X = px, G = pg, Y = pd, Length = d.Length, Alpha = slope });
    }

    /// <summary>
    /// x &gt; 0 ? x : slope x as a vector select: the scalar loop's branch mispredicted on every other sign change (10 µs of
    /// the VAE decoder's 3,200-element leaky ReLU). NaN takes slope x, a NaN, as before.
    /// </summary>
    private static void LeakyRelu(ReadOnlySpan<float> x, Span<float> d, float slope)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(slope);
            for (; i <= d.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var xv = new Vector<float>(x[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(xv, Vector<float>.Zero), xv, xv * s).CopyTo(d[i..]);
            }
        }
        for (; i < d.Length; i++) { float v = x[i]; d[i] = v > 0 ? v : slope * v; }
    }

    /// <summary>
    /// ReLU (slope 0): d = x &lt;= 0 ? 0 : g; leaky ReLU: d = x &gt; 0 ? g : slope g; vectorised (the ReLU backward
    /// of a CNN touches every activation). At NaN both follow PyTorch (threshold_backward, leaky_relu_backward):
    /// ReLU passes g, leaky ReLU passes slope g.
    /// </summary>
    private static void RectifierGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d, float slope)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var zero = Vector<float>.Zero;
            var s = new Vector<float>(slope);
            for (; i <= d.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gv = new Vector<float>(g[i..]);
                var xv = new Vector<float>(x[i..]);
                // ReLU selects zero rather than 0 * g, so an infinite or NaN gradient does not leak through.
                if (slope == 0) Vector.ConditionalSelect(Vector.LessThanOrEqual(xv, zero), zero, gv).CopyTo(d[i..]);
                else Vector.ConditionalSelect(Vector.GreaterThan(xv, zero), gv, gv * s).CopyTo(d[i..]);
            }
        }
        if (slope == 0) for (; i < d.Length; i++) d[i] = x[i] <= 0 ? 0f : g[i];
        else for (; i < d.Length; i++) d[i] = x[i] > 0 ? g[i] : slope * g[i];
    }
}
