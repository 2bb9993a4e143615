namespace Lab.Core.Backends;

/// <summary>A flat float32 buffer on one device. Tensors are views (offset + shape) into a storage.</summary>
public abstract class Storage
{
    protected Storage(int length) => Length = length;

    public int Length { get; }
    public abstract Device Device { get; }
    public abstract IBackend Backend { get; }
}

/// <summary>Host memory: a managed array, so spans and TensorPrimitives work on it directly.</summary>
public sealed class CpuStorage : Storage
{
    public CpuStorage(float[] data) : base(data.Length) => _data = data;
    public CpuStorage(int length) : this(length == 0 ? [] : new float[length]) { }

    private float[] _data;

    /// <summary>The elements; throws once a <see cref="TensorScope"/> has taken the buffer back.</summary>
    public float[] Data => _released ? throw ReleasedStorage.Error() : _data;

    private bool _released;
    internal void Release() => _released = true;
    internal void Revive() => _released = false;

    public override Device Device => Device.Cpu;
    public override IBackend Backend => CpuBackend.Instance;
}

/// <summary>
/// What a recycled tensor object points to between its scope's end and its next use: every access throws
/// the same error a released buffer does.
/// </summary>
internal sealed class ReleasedStorage : Storage
{
    public static readonly ReleasedStorage Instance = new();

    private ReleasedStorage() : base(0) { }

    public static ObjectDisposedException Error() => new("Tensor",
        "Tensor used after its TensorScope ended: its memory (and, in a recycling scope, the tensor object itself) now belongs to later steps. Read it out (ToArray, Item) or copy it (Clone() under TensorScope.Suspend()) before the scope ends.");

    public override Device Device => throw Error();
    public override IBackend Backend => throw Error();
}
