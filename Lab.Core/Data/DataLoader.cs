namespace Lab.Core.Data;

/// <summary>One mini-batch. Its tensors are reused by the loader for the next batch: copy what you keep.</summary>
public readonly record struct Batch(Tensor X, Tensor Y, int Size, int Index);

/// <summary>
/// Mini-batches over a dataset, reshuffled every epoch from a seeded generator, each sample visited
/// exactly once per epoch. The batch tensors are allocated once and refilled, so iterating allocates
/// nothing per batch (a last, smaller batch has its own pair).
/// With a <c>shard</c> (rank, ranks) the loader is one rank's part of data-parallel training: the batch size is the
/// global batch's, every rank shuffles alike (the same seed) and takes its own contiguous slice of each global batch
/// (sizes differ by at most one), so the ranks' batches are disjoint and together are the single-process batch.
/// A last global batch with fewer samples than ranks is dropped: no rank may go without.
/// </summary>
public sealed class DataLoader
{
    private readonly int[] _order;
    private readonly Generator? _generator;
    private readonly float[] _hostX, _hostY;
    private Tensor? _x, _y, _lastX, _lastY;

    public DataLoader(Dataset dataset, int batchSize, bool shuffle = false, Generator? generator = null,
        bool dropLast = false, Device? device = null, (int Rank, int Ranks)? shard = null)
    {
        if (batchSize < 1) throw new ArgumentException($"DataLoader: batch size must be positive, got {batchSize}.");
        var (rank, ranks) = shard ?? (0, 1);
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentException($"DataLoader: shard {rank} of {ranks} is not a rank of the job.");
        if (batchSize < ranks) throw new ArgumentException($"DataLoader: a global batch of {batchSize} cannot be shared by {ranks} ranks (each needs a sample).");
        (Rank, Ranks) = (rank, ranks);
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
    /// <summary>This loader's rank and the number of ranks sharing each batch (0 and 1 without a shard).</summary>
    public int Rank { get; }
    public int Ranks { get; }

    /// <summary>Batches per epoch.</summary>
    public int Count
    {
        get
        {
            int full = Dataset.Count / BatchSize, tail = Dataset.Count % BatchSize;
            return DropLast || tail < Ranks ? full : full + 1;   // with one rank: a partial batch of any size counts
        }
    }

    /// <summary>The samples of global batch <paramref name="b"/> over all ranks (this rank's batch has its share of them).</summary>
    public int GlobalSize(int b) => Math.Min(BatchSize, Dataset.Count - b * BatchSize);

    /// <summary>Where this rank's slice of a global batch of <paramref name="size"/> starts, and its length.</summary>
    private (int Start, int Length) Slice(int size) =>
        ((int)((long)size * Rank / Ranks), (int)((long)size * (Rank + 1) / Ranks) - (int)((long)size * Rank / Ranks));

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
        var (offset, size) = Slice(GlobalSize(b));
        int start = b * BatchSize + offset, full = Slice(BatchSize).Length;
        using var reused = TensorScope.Suspend();   // the batch buffers are the loader's, kept across steps
        Tensor x, y;
        if (size == full)
        {
            x = _x ??= Tensor.Empty([full, .. Dataset.SampleShape], Device);
            y = _y ??= Tensor.Empty([full, .. Dataset.TargetShape], Device);
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
