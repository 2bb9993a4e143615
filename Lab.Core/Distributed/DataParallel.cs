using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Distributed;

/// <summary>
/// Data-parallel training with PyTorch DistributedDataParallel's semantics over a <see cref="Communicator"/>:
/// rank 0's initial parameters (and buffers) are broadcast to every rank (<see cref="BroadcastState"/>); each rank
/// trains on its own shard of every global batch (<see cref="Data.DataLoader"/>'s shard, same shuffle seed everywhere);
/// an attached optimizer averages the gradients across the ranks, in buckets, at the start of each
/// <see cref="Optimizer.Step"/> (<see cref="Attach"/>, as Horovod's DistributedOptimizer), so every rank takes the same
/// step and optimizer state stays identical. Batch norm statistics stay local to each rank (DDP's default) unless
/// <see cref="ConvertSyncBatchNorm"/> synchronises them over the global batch (PyTorch's SyncBatchNorm).
/// <see cref="Training.Trainer.Fit"/> does all of this when given one (<see cref="Training.Trainer.Distributed"/>);
/// a custom loop with several optimizers (a GAN's) attaches each of them.
/// </summary>
public sealed class DataParallel
{
    private readonly Dictionary<Optimizer, GradientBuckets> _attached = new(ReferenceEqualityComparer.Instance);

    /// <param name="bucketBytes">The largest gradient bucket, in bytes (PyTorch DDP's bucket_cap_mb: 25 MB).</param>
    public DataParallel(Communicator communicator, long bucketBytes = 25L << 20)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        if (bucketBytes < sizeof(float)) throw new ArgumentException($"DataParallel: the bucket size must be at least 4 bytes, got {bucketBytes}.");
        Communicator = communicator;
        BucketBytes = bucketBytes;
        LocalShare = 1f / communicator.Size;
    }

    public Communicator Communicator { get; }
    public long BucketBytes { get; }
    public int Rank => Communicator.Rank;
    public int Size => Communicator.Size;

    /// <summary>
    /// This rank's weight in the gradient average: its share of the global batch (1/Size when the shards are equal, the
    /// mean; the loader's shard sizes when a batch does not divide evenly, so the average is the global batch's gradient).
    /// </summary>
    public float LocalShare { get; set; }

    /// <summary>Every rank's parameters and buffers become rank 0's (call once, before training).</summary>
    public void BroadcastState(Module module)
    {
        using var _ = new Autodiff.NoGrad();
        foreach (var (_, t) in module.StateDict()) Communicator.Broadcast(t);
    }

    /// <summary>
    /// Rank 0's values of the optimizer's tensors go to every rank, and from now on each <see cref="Optimizer.Step"/>
    /// first replaces the gradients by their average over the ranks. Attaching twice is harmless.
    /// </summary>
    public void Attach(Optimizer optimizer)
    {
        if (_attached.ContainsKey(optimizer)) return;
        if (optimizer.BeforeStep is not null)
            throw new InvalidOperationException($"DataParallel: this {optimizer.GetType().Name} already runs something before its step (another DataParallel?).");
        using (new Autodiff.NoGrad())
            foreach (var p in optimizer.Parameters) Communicator.Broadcast(p);
        var buckets = new GradientBuckets(this, optimizer.Parameters);
        _attached[optimizer] = buckets;
        optimizer.BeforeStep = buckets.Reduce;
    }

    /// <summary>Stops averaging this optimizer's gradients.</summary>
    public void Detach(Optimizer optimizer)
    {
        if (_attached.Remove(optimizer)) optimizer.BeforeStep = null;
    }

    /// <summary>How many buckets an attached optimizer's gradients travel in.</summary>
    public int BucketCount(Optimizer optimizer) => _attached.TryGetValue(optimizer, out var b) ? b.BucketCount : 0;

    /// <summary>
    /// Makes every batch norm layer of <paramref name="module"/> synchronised, as PyTorch's
    /// SyncBatchNorm.convert_sync_batchnorm: in training its mean and variance are those of the global batch (all
    /// ranks' samples), with exact gradients and running statistics alike on every rank. Returns how many layers it set.
    /// </summary>
    public int ConvertSyncBatchNorm(Module module)
    {
        int count = 0;
        foreach (var (_, m) in module.NamedModules())
            if (m is BatchNorm bn) { bn.Synchronised = this; count++; }
        return count;
    }

    /// <summary>
    /// A tensor summed over the ranks (every rank gets the sum), differentiably: the gradient each rank gets back is
    /// exact for the global loss that the weighted gradient average differentiates (see AllReduceNode for why).
    /// Every rank must call it, in the same order.
    /// </summary>
    public Tensor AllReduceSum(Tensor x) => AllReduceNode.Apply(x, Communicator, LocalShare, 1);

    /// <summary>Each value averaged over the ranks (every rank passes the same keys): epoch logs, metrics.</summary>
    public Dictionary<string, double> Average(IReadOnlyDictionary<string, double> values)
    {
        var keys = values.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        var buffer = keys.Select(k => values[k]).ToArray();
        Communicator.AllReduce(buffer.AsSpan(), AllReduceOp.Mean);
        var reduced = new Dictionary<string, double>(values.Count);
        for (int i = 0; i < keys.Length; i++) reduced[keys[i]] = buffer[i];
        return values.Keys.ToDictionary(k => k, k => reduced[k]);   // the caller's order
    }
}
