namespace Lab.Core.Data;

/// <summary>One array of a <see cref="MultiDataset"/>: its values, the shape of one sample, and the input or output it feeds.</summary>
public sealed record DataPart(string? Name, float[] Values, int[] SampleShape)
{
    public int SampleSize { get; } = ShapeUtil.Numel(SampleShape);
    public ReadOnlySpan<float> Sample(int i) => Values.AsSpan(i * SampleSize, SampleSize);
}

/// <summary>
/// In-memory samples for a model with several inputs and outputs (Keras's fit([text, question], [age, income]) or
/// fit({'text': ...}, {'age': ...})): one array per input and per target, all with the same number of samples.
/// Parts with names are matched to the model's inputs and outputs by name, unnamed ones by position.
/// </summary>
public sealed class MultiDataset
{
    public MultiDataset(IReadOnlyList<DataPart> inputs, IReadOnlyList<DataPart> targets)
    {
        if (inputs.Count == 0) throw new ArgumentException("MultiDataset: needs at least one input array.");
        Inputs = [.. inputs];
        Targets = [.. targets];
        var first = Inputs[0];
        if (first.SampleSize == 0 || first.Values.Length % first.SampleSize != 0)
            throw new ArgumentException($"MultiDataset: input {Describe(first, 0)}: {first.Values.Length} values do not divide into samples of shape {ShapeUtil.Format(first.SampleShape)}.");
        Count = first.Values.Length / first.SampleSize;
        foreach (var (part, i, kind) in Inputs.Select((p, i) => (p, i, "input")).Concat(Targets.Select((p, i) => (p, i, "target"))))
            if (part.Values.Length != Count * part.SampleSize)
                throw new ArgumentException($"MultiDataset: {kind} {Describe(part, i)} holds {part.Values.Length} values, " +
                    $"but {Count} samples of shape {ShapeUtil.Format(part.SampleShape)} need {Count * part.SampleSize}.");
    }

    /// <summary>From tensors in the order of the model's inputs and outputs (the first axis is the sample).</summary>
    public static MultiDataset FromTensors(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> targets) =>
        new([.. inputs.Select(t => Part(null, t))], [.. targets.Select(t => Part(null, t))]);

    /// <summary>From tensors keyed by the model's input and output names.</summary>
    public static MultiDataset FromTensors(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> targets) =>
        new([.. inputs.Select(kv => Part(kv.Key, kv.Value))], [.. targets.Select(kv => Part(kv.Key, kv.Value))]);

    private static DataPart Part(string? name, Tensor t) => t.Rank >= 1
        ? new(name, t.ToArray(), t.ShapeArray()[1..])
        : throw new ArgumentException($"MultiDataset: {(name is null ? "a tensor" : $"'{name}'")} of shape {ShapeUtil.Format(t.Shape)} has no sample axis.");

    public IReadOnlyList<DataPart> Inputs { get; }
    public IReadOnlyList<DataPart> Targets { get; }
    public int Count { get; }

    /// <summary>The samples at <paramref name="indices"/>, in that order (copies).</summary>
    public MultiDataset Subset(ReadOnlySpan<int> indices)
    {
        foreach (int i in indices)
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"MultiDataset.Subset: index {i} outside [0, {Count}).");
        DataPart Take(DataPart p, ReadOnlySpan<int> idx)
        {
            var v = new float[idx.Length * p.SampleSize];
            for (int j = 0; j < idx.Length; j++) p.Sample(idx[j]).CopyTo(v.AsSpan(j * p.SampleSize));
            return p with { Values = v };
        }
        var ins = new DataPart[Inputs.Count];
        var outs = new DataPart[Targets.Count];
        for (int k = 0; k < ins.Length; k++) ins[k] = Take(Inputs[k], indices);
        for (int k = 0; k < outs.Length; k++) outs[k] = Take(Targets[k], indices);
        return new MultiDataset(ins, outs);
    }

    /// <summary>
    /// The parts in the order of <paramref name="inputNames"/> and <paramref name="outputNames"/>: by name where the
    /// parts are named, else by position. Says which name is missing or unknown.
    /// </summary>
    public MultiDataset Arrange(IReadOnlyList<string> inputNames, IReadOnlyList<string> outputNames) =>
        new(Order(Inputs, inputNames, "input"), Order(Targets, outputNames, "target"));

    private static DataPart[] Order(IReadOnlyList<DataPart> parts, IReadOnlyList<string> names, string kind)
    {
        if (parts.All(p => p.Name is null))
            return parts.Count == names.Count ? [.. parts]
                : throw new ArgumentException($"MultiDataset: the model has {names.Count} {kind}s ({string.Join(", ", names)}), the data {parts.Count}.");
        if (parts.Any(p => p.Name is null)) throw new ArgumentException($"MultiDataset: name every {kind} array or none.");
        foreach (var p in parts)
            if (!names.Contains(p.Name!))
                throw new ArgumentException($"MultiDataset: {kind} '{p.Name}' is not one of the model's {kind}s ({string.Join(", ", names)}).");
        return [.. names.Select(n => parts.FirstOrDefault(p => p.Name == n)
            ?? throw new ArgumentException($"MultiDataset: no {kind} array for the model's '{n}'."))];
    }

    private static string Describe(DataPart p, int i) => p.Name is null ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"'{p.Name}'";
}

/// <summary>One mini-batch of a <see cref="MultiDataset"/>. Its tensors are reused by the loader for the next batch.</summary>
public readonly record struct MultiBatch(Tensor[] Inputs, Tensor[] Targets, int Size, int Index);

/// <summary>
/// Mini-batches over a <see cref="MultiDataset"/>: as <see cref="DataLoader"/>, one seeded shuffle per epoch shared by
/// every array, and batch tensors allocated once and refilled, so an epoch allocates nothing per batch.
/// </summary>
public sealed class MultiDataLoader
{
    private readonly int[] _order;
    private readonly Generator? _generator;
    private readonly float[] _host;
    private Tensor[] _fullIn = [], _fullOut = [], _lastIn = [], _lastOut = [];

    public MultiDataLoader(MultiDataset dataset, int batchSize, bool shuffle = false, Generator? generator = null, Device? device = null)
    {
        if (batchSize < 1) throw new ArgumentException($"MultiDataLoader: batch size must be positive, got {batchSize}.");
        if (shuffle && generator is null) throw new ArgumentException("MultiDataLoader: shuffling needs a seeded Generator.");
        (Dataset, BatchSize, Shuffle, _generator, Device) = (dataset, batchSize, shuffle, generator, device ?? Device.Cpu);
        _order = Enumerable.Range(0, dataset.Count).ToArray();
        int largest = dataset.Inputs.Concat(dataset.Targets).Max(p => p.SampleSize);
        _host = Device == Device.Cpu ? [] : new float[batchSize * largest];
    }

    public MultiDataset Dataset { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public Device Device { get; }
    public int Count => (Dataset.Count + BatchSize - 1) / BatchSize;

    public IEnumerable<MultiBatch> Epoch()
    {
        if (Shuffle)
        {
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            _generator!.Shuffle(_order.AsSpan());
        }
        for (int b = 0; b < Count; b++) yield return Fill(b);
    }

    private MultiBatch Fill(int b)
    {
        int start = b * BatchSize, size = Math.Min(BatchSize, Dataset.Count - start);
        using var reused = TensorScope.Suspend();   // the batch buffers are the loader's, kept across steps
        Tensor[] ins, outs;
        if (size == BatchSize)
        {
            if (_fullIn.Length == 0) (_fullIn, _fullOut) = Buffers(size);
            (ins, outs) = (_fullIn, _fullOut);
        }
        else
        {
            if (_lastIn.Length == 0 || _lastIn[0].Shape[0] != size) (_lastIn, _lastOut) = Buffers(size);
            (ins, outs) = (_lastIn, _lastOut);
        }
        for (int k = 0; k < ins.Length; k++) Copy(Dataset.Inputs[k], ins[k], start, size);
        for (int k = 0; k < outs.Length; k++) Copy(Dataset.Targets[k], outs[k], start, size);
        return new MultiBatch(ins, outs, size, b);
    }

    private (Tensor[] In, Tensor[] Out) Buffers(int size) =>
        ([.. Dataset.Inputs.Select(p => Tensor.Empty([size, .. p.SampleShape], Device))],
         [.. Dataset.Targets.Select(p => Tensor.Empty([size, .. p.SampleShape], Device))]);

    private void Copy(DataPart part, Tensor batch, int start, int size)
    {
        int n = part.SampleSize;
        Span<float> host = Device == Device.Cpu ? batch.Span : _host.AsSpan(0, size * n);
        for (int j = 0; j < size; j++) part.Sample(_order[start + j]).CopyTo(host.Slice(j * n, n));
        if (Device != Device.Cpu) batch.Backend.Upload(host, batch);
    }
}
