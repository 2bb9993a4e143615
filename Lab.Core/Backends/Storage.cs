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
    public CpuStorage(float[] data) : base(data.Length) => Data = data;
    public CpuStorage(int length) : this(length == 0 ? [] : new float[length]) { }

    public float[] Data { get; }
    public override Device Device => Device.Cpu;
    public override IBackend Backend => CpuBackend.Instance;
}
