using Lab.Core.Backends;

namespace Lab.Core.Distributed;

/// <summary>
/// One optimizer's gradients averaged across the ranks before its step, in buckets as PyTorch's DDP does: the
/// gradients are packed into a few flat buffers (allocated once, on the parameters' device, up to
/// <see cref="DataParallel.BucketBytes"/> each, in reverse parameter order: the order backward finishes them), each
/// bucket is all-reduced in one call, and the result is unpacked. A step allocates nothing.
/// </summary>
internal sealed class GradientBuckets
{
    private readonly DataParallel _owner;
    private readonly Tensor[] _parameters;
    private readonly Bucket[] _buckets;

    private sealed record Bucket(Tensor Flat, (int Parameter, Tensor Slice)[] Members);

    public GradientBuckets(DataParallel owner, IReadOnlyList<Tensor> parameters)
    {
        _owner = owner;
        _parameters = [.. parameters];
        var buckets = new List<Bucket>();
        using var persistent = TensorScope.Suspend();   // the buckets live as long as the optimizer
        long limit = Math.Max(1, owner.BucketBytes / sizeof(float));
        var pending = new List<int>();
        long floats = 0;
        // Grouped by device (a bucket lies on one) and in reverse order.
        foreach (var group in Enumerable.Range(0, _parameters.Length).Reverse().GroupBy(i => _parameters[i].Device))
        {
            foreach (int i in group)
            {
                if (pending.Count > 0 && floats + _parameters[i].Numel > limit) { buckets.Add(Pack(pending, floats, group.Key)); pending.Clear(); floats = 0; }
                pending.Add(i);
                floats += _parameters[i].Numel;
            }
            if (pending.Count > 0) { buckets.Add(Pack(pending, floats, group.Key)); pending.Clear(); floats = 0; }
        }
        _buckets = [.. buckets];
    }

    private Bucket Pack(List<int> members, long floats, Device device)
    {
        if (floats > int.MaxValue) throw new ArgumentException($"DataParallel: a single parameter of {floats} elements exceeds a bucket's {int.MaxValue}.");
        var flat = Tensor.Zeros([(int)floats], device);
        int offset = 0;
        var slices = new (int, Tensor)[members.Count];
        for (int k = 0; k < members.Count; k++)
        {
            var p = _parameters[members[k]];
            slices[k] = (members[k], Tensor.Make(flat.Storage, offset, p.Shape));
            offset += p.Numel;
        }
        return new Bucket(flat, slices);
    }

    public int BucketCount => _buckets.Length;

    /// <summary>Replaces every gradient with the ranks' weighted sum (each rank's weight is its share of the global batch).</summary>
    public void Reduce()
    {
        var comm = _owner.Communicator;
        float share = _owner.LocalShare;
        foreach (var bucket in _buckets)
        {
            foreach (var (i, slice) in bucket.Members)
            {
                var p = _parameters[i];
                // A parameter this rank's step did not reach still takes part (with zeros), so every rank updates it alike.
                if (p.Grad is null)
                    using (TensorScope.Suspend()) p.Grad = Tensor.Zeros(p.Shape, p.Device);
                p.Backend.Copy(p.Grad, slice);
            }
            var flat = bucket.Flat;
            if (share != 1) flat.Backend.Unary(UnaryOp.Affine, flat, flat, share, 0);
            comm.AllReduce(flat, AllReduceOp.Sum);
            foreach (var (i, slice) in bucket.Members) _parameters[i].Backend.Copy(slice, _parameters[i].Grad!);
        }
    }
}
