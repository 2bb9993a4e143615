using Lab.Core.Data;
using Lab.Core.Distributed;
using Lab.Core.Optim;

namespace Lab.Core.Training;

public partial class Trainer
{
    /// <summary>
    /// Data-parallel training (see <see cref="DataParallel"/>): Fit broadcasts rank 0's model to every rank, attaches
    /// <see cref="Optimizers"/> (their gradients are averaged over the ranks before each step), gives each rank its shard
    /// of every global batch (Fit's batchSize is the global batch, split over the ranks, as Keras's distribution
    /// strategies do), averages each epoch's logs over the ranks, and prints progress on rank 0 only. Null: one process.
    /// </summary>
    public DataParallel? Distributed { get; set; }

    /// <summary>
    /// Under <see cref="Distributed"/>, Fit makes the model's batch norm layers synchronised
    /// (<see cref="DataParallel.ConvertSyncBatchNorm"/>): statistics of the global batch rather than each rank's shard,
    /// as PyTorch Lightning's sync_batchnorm. Off by default (DDP's local statistics); no effect on one process.
    /// </summary>
    public bool SyncBatchNorm { get; set; }

    /// <summary>The optimizers a step updates, which data parallelism attaches: the compiled one by default; a custom
    /// trainer with its own (a GAN's two) lists them.</summary>
    public virtual IReadOnlyList<Optimizer> Optimizers => Optimizer is null ? [] : [Optimizer];

    /// <summary>Fit's step under <see cref="Distributed"/>: the model and optimizers made alike on every rank, then each
    /// batch's share of the global batch set before the step (the gradient average's weight).</summary>
    private Action<Batch> DistributedStep(DataParallel dp, DataLoader loader)
    {
        var optimizers = Optimizers;
        if (optimizers.Count == 0)
            throw new InvalidOperationException("Trainer: data-parallel Fit needs the optimizers: Compile, or override Optimizers in a custom trainer.");
        dp.BroadcastState(Model);
        if (SyncBatchNorm) dp.ConvertSyncBatchNorm(Model);
        foreach (var optimizer in optimizers) dp.Attach(optimizer);
        return batch =>
        {
            dp.LocalShare = (float)batch.Size / loader.GlobalSize(batch.Index);
            TrainStep(batch);
        };
    }
}
