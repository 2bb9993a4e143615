namespace Lab.Core.Data;

/// <summary>One mini-batch. Its tensors are reused by the loader for the next batch: copy what you keep.</summary>
public readonly record struct Batch(Tensor X, Tensor Y, int Size, int Index);

/// <summary>
/// Mini-batches over a dataset, reshuffled every epoch from a seeded generator, each sample visited
/// exactly once per epoch. The batch tensors are allocated once and refilled, so iterating allocates
/// nothing per batch (a last, smaller batch has its own pair).
/// </summary>
public sealed class DataLoader
{
    private readonly int[] _order;
    private readonly Generator? _generator;
    private readonly float[] _hostX, _hostY;
    private Tensor? _x, _y, _lastX, _lastY;

    public DataLoader(Dataset dataset, int batchSize, bool shuffle = false, Generator? generator = null,
        bool dropLast = false, Device? device = null)
    {
        if (batchSize < 1) throw new ArgumentException($"DataLoader: batch size must be positive, got {batchSize}.");
        if (shuffle && generator is null) throw new ArgumentException("DataLoader: shuffling needs a seeded Generator.");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Device = device ?? Device.Cpu;
        _generator = generator;
        _order = Enumerable.Range(0, dataset.Count).ToArray();
        _hostX = Device == Device.Cpu ? [] : new float[batchSize * dataset.SampleSize];
        _hostY = Device == Device.Cpu ? [] : new float[batchSize * dataset.TargetSize];
    }

    public Dataset Dataset { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public Device Device { get; }

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of the current epoch (after the last reshuffle).</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>One epoch: reshuffles (when shuffling), then yields the batches.</summary>
    public IEnumerable<Batch> Epoch()
    {
        if (Shuffle)
        {
            // Each epoch shuffles the identity order, so the generator's state alone fixes every later epoch
            // (a run resumed from a checkpoint with that state sees the same batches).
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            _generator!.Shuffle(_order.AsSpan());
        }
        for (int b = 0; b < Count; b++) yield return Fill(b);
    }

    private Batch Fill(int b)
    {
        int start = b * BatchSize, size = Math.Min(BatchSize, Dataset.Count - start);
        using var reused = TensorScope.Suspend();   // the batch buffers are the loader's, kept across steps
        Tensor x, y;
        if (size == BatchSize)
        {
            x = _x ??= Tensor.Empty([BatchSize, .. Dataset.SampleShape], Device);
            y = _y ??= Tensor.Empty([BatchSize, .. Dataset.TargetShape], Device);
        }
        else
        {
            if (_lastX is null || _lastX.Shape[0] != size)
            {
                _lastX = Tensor.Empty([size, .. Dataset.SampleShape], Device);
                _lastY = Tensor.Empty([size, .. Dataset.TargetShape], Device);
            }
            (x, y) = (_lastX, _lastY!);
        }
        int sx = Dataset.SampleSize, sy = Dataset.TargetSize;
        Span<float> hx = Device == Device.Cpu ? x.Span : _hostX.AsSpan(0, size * sx);
        Span<float> hy = Device == Device.Cpu ? y.Span : _hostY.AsSpan(0, size * sy);
        for (int j = 0; j < size; j++)
        {
            int i = _order[start + j];
            Dataset.Sample(i).CopyTo(hx.Slice(j * sx, sx));
            Dataset.Target(i).CopyTo(hy.Slice(j * sy, sy));
        }
        if (Device != Device.Cpu)
        {
            x.Backend.Upload(hx, x);
            y.Backend.Upload(hy, y);
        }
        return new Batch(x, y, size, b);
    }
}
