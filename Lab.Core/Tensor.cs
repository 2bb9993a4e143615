using System.Globalization;
using System.Text;
using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

/// <summary>
/// A float32, contiguous, row-major array on a device, with optional gradient tracking.
/// A tensor is a view (offset + shape) of a <see cref="Storage"/>; reshapes and leading-axis slices share it.
/// </summary>
public sealed partial class Tensor
{
    // Owned by this tensor alone (never shared with another tensor), so a recycled tensor can rewrite it.
    private int[] _shape;

    /// <summary>A tensor over <paramref name="storage"/> that takes ownership of <paramref name="shape"/>.</summary>
    internal Tensor(Storage storage, int offset, int[] shape)
    {
        _storage = storage;
        Offset = offset;
        _shape = shape;
        Numel = ShapeUtil.Numel(shape);
    }

    /// <summary>
    /// Every tensor an op or view makes comes from here: inside a recycling <see cref="TensorScope"/> the object
    /// is a pooled one of the same rank (its shape array rewritten in place); elsewhere a new one. Either way a
    /// tensor made inside a scope is stamped with it, and dies with it.
    /// </summary>
    internal static Tensor Make(Storage storage, int offset, ReadOnlySpan<int> shape)
    {
        var t = TensorScope.TryRentTensor(shape.Length);
        if (t is null) t = new Tensor(storage, offset, shape.ToArray());
        else
        {
            shape.CopyTo(t._shape);
            t._storage = storage;
            t.Offset = offset;
            t.Numel = ShapeUtil.Numel(shape);
        }
        t.Stamp(TensorScope.CurrentFrame);
        return t;
    }

    /// <summary>A pooled tensor object before its first use.</summary>
    internal static Tensor NewPooled(int rank) => new(ReleasedStorage.Instance, 0, new int[rank]);

    /// <summary>The scope that made this tensor (null for one made outside scopes or under <see cref="TensorScope.Suspend"/>).</summary>
    internal TensorScope.Frame? ScopeOwner { get; private set; }

    // The owner's generation when this tensor was made: the owner's count moves on when the scope ends (and again each
    // time its pooled frame serves a later scope), so a mismatch means "made in a scope that has ended".
    private int _scopeGeneration;

    private void Stamp(TensorScope.Frame? frame)
    {
        ScopeOwner = frame;
        _scopeGeneration = frame?.Generation ?? 0;
    }

    /// <summary>Whether the scope that made this tensor has ended (every use of it then throws).</summary>
    internal bool ScopeEnded => ScopeOwner is { } owner && owner.Generation != _scopeGeneration;

    /// <summary>Whether the scope that made this tensor is <paramref name="frame"/>, still running.</summary>
    internal bool MadeBy(TensorScope.Frame frame) => ReferenceEquals(ScopeOwner, frame) && frame.Generation == _scopeGeneration;

    internal static ObjectDisposedException ScopeEndedError() => ReleasedStorage.Error();

    /// <summary>Called by the scope that made this tensor at its end: every later use fails until the object is reused.</summary>
    internal void ReleaseToPool()
    {
        _storage = ReleasedStorage.Instance;
        Offset = 0;
        _requiresGrad = false;
        Grad = null;
        _gradFn = null;
    }

    private Storage _storage;

    /// <summary>The buffer this tensor views; throws once the <see cref="TensorScope"/> that made the tensor has ended.</summary>
    public Storage Storage => ScopeEnded ? throw ScopeEndedError() : _storage;

    /// <summary>
    /// What a backend kernel sees of this tensor; the ops hand tensors to <see cref="IBackend"/> through this
    /// conversion (null, for an absent optional operand, becomes the default view).
    /// </summary>
    public static implicit operator StorageView(Tensor? t) => t is null ? default : new StorageView(t.Storage, t.Offset, t.Numel, t._shape);

    /// <summary>
    /// Moves a leaf's elements to another device in place (Module.To uses it, so that layers keep their
    /// parameter objects). Views of the old storage are not moved.
    /// </summary>
    internal void MoveStorage(Device device)
    {
        if (GradFn is not null) throw new InvalidOperationException("MoveStorage: only leaf tensors can move in place.");
        if (device == Device) return;
        var moved = To(device).Detach();
        _storage = moved._storage;
        Offset = 0;
        Stamp(moved.ScopeOwner);
    }
    /// <summary>Index of this tensor's first element in its storage.</summary>
    public int Offset { get; private set; }
    public ReadOnlySpan<int> Shape => _shape;
    public int Rank => _shape.Length;
    public int Numel { get; private set; }
    public Device Device => Storage.Device;
    /// <summary>The kernels of this tensor's device (while a traced step records, the recording stand-in for them).</summary>
    public IBackend Backend => Tracing.Trace.Resolve(Storage.Backend);

    /// <summary>The size of one dimension; negative dims count from the end.</summary>
    public int Size(int dim) => _shape[ShapeUtil.Axis("Size", dim, Rank)];

    /// <summary>A copy of the shape (the span <see cref="Shape"/> is for reading in place).</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    internal int[] ShapeRef => _shape;

    /// <summary>The elements in host memory, for kernels of the CPU backend.</summary>
    internal Span<float> Span => Storage is CpuStorage cpu
        ? cpu.Data.AsSpan(Offset, Numel)
        : throw new InvalidOperationException($"Tensor on {Device} has no host span; call ToArray() or To(Device.Cpu).");

    // ---- construction ----

    /// <summary>An uninitialised-or-zero tensor: contents are unspecified unless <paramref name="zero"/>.</summary>
    public static Tensor Empty(ReadOnlySpan<int> shape, Device? device = null, bool zero = false)
    {
        ShapeUtil.Validate("Tensor.Empty", shape);
        var backend = Tracing.Trace.Resolve(BackendRegistry.For(device ?? Device.Cpu));
        return Make(backend.Allocate(ShapeUtil.Numel(shape), zero), 0, shape);
    }

    public static Tensor Zeros(params ReadOnlySpan<int> shape) => Empty(shape, null, zero: true);
    public static Tensor Zeros(ReadOnlySpan<int> shape, Device device) => Empty(shape, device, zero: true);
    public static Tensor Ones(params ReadOnlySpan<int> shape) => Full(shape, 1f);
    public static Tensor Full(ReadOnlySpan<int> shape, float value, Device? device = null)
    {
        var t = Empty(shape, device);
        t.Backend.Fill(t, value);
        return t;
    }

    public static Tensor Scalar(float value, Device? device = null) => Full([], value, device);

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, ReadOnlySpan<int> shape, Device? device = null)
    {
        ShapeUtil.Validate("Tensor.FromArray", shape);
        int n = ShapeUtil.Numel(shape);
        if (n != data.Length)
            throw new ArgumentException($"Tensor.FromArray: {data.Length} values cannot fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        var t = Empty(shape, device);
        t.Backend.Upload(data, t);
        return t;
    }

    /// <summary>A 1-D tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(params float[] data) => FromArray(data, [data.Length]);

    public static Tensor FromArray(float[,] data)
    {
        int r = data.GetLength(0), c = data.GetLength(1);
        var flat = new float[r * c];
        Buffer.BlockCopy(data, 0, flat, 0, flat.Length * sizeof(float));
        return FromArray(flat, [r, c]);
    }

    /// <summary>0, step, 2 step, ... below <paramref name="end"/> starting at <paramref name="start"/>.</summary>
    public static Tensor Arange(float start, float end, float step = 1, Device? device = null)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("Tensor.Arange: step must be non-zero.", nameof(step));
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = start + i * step;
        return FromArray(data, [n], device);
    }

    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>Normal(mean, std) samples drawn from <paramref name="generator"/> on the host.</summary>
    public static Tensor RandN(Generator generator, ReadOnlySpan<int> shape, float mean = 0, float std = 1, Device? device = null)
        => Random("Tensor.RandN", generator, shape, device, normal: true, mean, std);

    /// <summary>Uniform [low, high) samples drawn from <paramref name="generator"/> on the host.</summary>
    public static Tensor Rand(Generator generator, ReadOnlySpan<int> shape, float low = 0, float high = 1, Device? device = null)
        => Random("Tensor.Rand", generator, shape, device, normal: false, low, high);

    /// <summary>Samples drawn straight into a host tensor, or into a host array uploaded to a device.</summary>
    private static Tensor Random(string op, Generator generator, ReadOnlySpan<int> shape, Device? device, bool normal, float a, float b)
    {
        ShapeUtil.Validate(op, shape);
        var t = Empty(shape, device);
        // A draw is a host action: a traced step draws again, in the same order, at every replay.
        Tracing.Trace.HostFill(op, t.Storage, t.Offset, t.Numel, (generator, normal, a, b), static (values, s) =>
        {
            if (s.normal) s.generator.FillNormal(values, s.a, s.b);
            else s.generator.FillUniform(values, s.a, s.b);
        });
        return t;
    }

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.Device);
    public static Tensor OnesLike(Tensor t) => Full(t.Shape, 1f, t.Device);

    // ---- reading ----

    public float[] ToArray()
    {
        var result = new float[Numel];
        Backend.Download(this, result);
        return result;
    }

    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < Numel)
            throw new ArgumentException($"CopyTo: destination holds {destination.Length} floats, tensor {ShapeUtil.Format(Shape)} has {Numel}.");
        Backend.Download(this, destination[..Numel]);
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item: tensor of shape {ShapeUtil.Format(Shape)} has {Numel} elements, expected 1.");
        Span<float> one = stackalloc float[1];
        Backend.Download(this, one);
        return one[0];
    }

    /// <summary>The element at a multi-index (slow: for tests and inspection).</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get
        {
            if (index.Length != Rank) throw new ArgumentException($"Indexer: {index.Length} indices for a tensor of rank {Rank}.");
            int flat = 0;
            for (int i = 0; i < Rank; i++)
            {
                if ((uint)index[i] >= (uint)_shape[i])
                    throw new ArgumentOutOfRangeException(nameof(index), $"Indexer: index {index[i]} out of range for dimension {i} of size {_shape[i]}.");
                flat = flat * _shape[i] + index[i];
            }
            return Storage is CpuStorage cpu ? cpu.Data[Offset + flat] : ToArray()[flat];
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("tensor(");
        var data = Numel <= 1000 ? ToArray() : null;
        if (data is null) sb.Append("...");
        else if (Rank == 0) sb.Append(Fmt(data[0]));
        else AppendNested(sb, data, 0, 0, 7);
        sb.Append(", shape=").Append(ShapeUtil.Format(Shape));
        if (Device != Device.Cpu) sb.Append(", device=").Append(Device);
        if (GradFn is not null) sb.Append(", grad_fn=").Append(GradFn.Name);
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private static string Fmt(float v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    private int AppendNested(StringBuilder sb, float[] data, int dim, int offset, int indent)
    {
        sb.Append('[');
        int n = _shape[dim];
        if (dim == Rank - 1)
        {
            for (int i = 0; i < n; i++) { if (i > 0) sb.Append(", "); sb.Append(Fmt(data[offset + i])); }
            sb.Append(']');
            return offset + n;
        }
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(",\n").Append(' ', indent + dim + 1);
            offset = AppendNested(sb, data, dim + 1, offset, indent);
        }
        sb.Append(']');
        return offset;
    }
}
