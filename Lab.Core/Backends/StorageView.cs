namespace Lab.Core.Backends;

/// <summary>
/// What a backend kernel sees of a tensor: the storage, the index of the first element, the element count and
/// the (row-major, contiguous) shape. Backends work on these and never on <see cref="Tensor"/>, so the inner ring
/// does not depend on the autograd layer above it. A view is a stack-only value: passed by <c>in</c> it costs a
/// pointer, and making one from a tensor (the implicit conversion in <see cref="Tensor"/>) allocates nothing.
/// The default view stands for "no tensor" where a kernel takes an optional operand (a bias, an AMSGrad buffer).
/// </summary>
public readonly ref struct StorageView
{
    /// <summary>A view of <paramref name="shape"/>'s elements of <paramref name="storage"/> from <paramref name="offset"/> on.</summary>
    public StorageView(Storage storage, int offset, ReadOnlySpan<int> shape)
        : this(storage, offset, ShapeUtil.Numel(shape), shape)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (offset < 0 || Numel > storage.Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"StorageView: {Numel} elements of shape {ShapeUtil.Format(shape)} from offset {offset} do not fit a storage of {storage.Length}.");
    }

    /// <summary>The unchecked form for tensors, whose offset and shape were validated when they were made.</summary>
    internal StorageView(Storage storage, int offset, int numel, ReadOnlySpan<int> shape)
    {
        Storage = storage;
        Offset = offset;
        Numel = numel;
        Shape = shape;
    }

    /// <summary>The buffer (null for the default view, which stands for an absent operand).</summary>
    public Storage Storage { get; }
    /// <summary>Index of the first element in <see cref="Storage"/>.</summary>
    public int Offset { get; }
    public int Numel { get; }
    public ReadOnlySpan<int> Shape { get; }
    public int Rank => Shape.Length;
    /// <summary>Whether this is the default view: an optional operand that was not given.</summary>
    public bool IsNone => Storage is null;
    public Device Device => Storage.Device;

    /// <summary>The elements in host memory, for the CPU backend's kernels.</summary>
    public Span<float> Span => Storage is CpuStorage cpu
        ? cpu.Data.AsSpan(Offset, Numel)
        : throw new InvalidOperationException($"A view of shape {ShapeUtil.Format(Shape)} on {Storage?.Device.ToString() ?? "no storage"} has no host span.");
}
