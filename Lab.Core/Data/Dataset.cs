namespace Lab.Core.Data;

/// <summary>
/// In-memory samples: features and targets as flat host arrays with per-sample shapes
/// (e.g. 1797 digits of [1, 8, 8] with scalar labels). Batches are copied out by index.
/// </summary>
public sealed class Dataset
{
    public Dataset(float[] features, int[] sampleShape, float[] targets, int[] targetShape)
    {
        SampleShape = sampleShape;
        TargetShape = targetShape;
        SampleSize = ShapeUtil.Numel(sampleShape);
        TargetSize = ShapeUtil.Numel(targetShape);
        if (SampleSize == 0 || features.Length % SampleSize != 0)
            throw new ArgumentException($"Dataset: {features.Length} feature values do not divide into samples of shape {ShapeUtil.Format(sampleShape)}.");
        Count = features.Length / SampleSize;
        if (targets.Length != Count * TargetSize)
            throw new ArgumentException($"Dataset: {Count} samples need {Count * TargetSize} target values of shape {ShapeUtil.Format(targetShape)}, got {targets.Length}.");
        Features = features;
        Targets = targets;
    }

    /// <summary>Samples with integer class labels.</summary>
    public static Dataset WithLabels(float[] features, int[] sampleShape, int[] labels)
        => new(features, sampleShape, Array.ConvertAll(labels, l => (float)l), []);

    public static Dataset FromTensors(Tensor x, Tensor y) =>
        new(x.ToArray(), x.ShapeArray()[1..], y.ToArray(), y.ShapeArray()[1..]);

    public float[] Features { get; }
    public float[] Targets { get; }
    public int[] SampleShape { get; }
    public int[] TargetShape { get; }
    public int SampleSize { get; }
    public int TargetSize { get; }
    public int Count { get; }

    public ReadOnlySpan<float> Sample(int i) => Features.AsSpan(i * SampleSize, SampleSize);
    public ReadOnlySpan<float> Target(int i) => Targets.AsSpan(i * TargetSize, TargetSize);

    /// <summary>The samples at <paramref name="indices"/>, in that order (copies).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var f = new float[indices.Length * SampleSize];
        var t = new float[indices.Length * TargetSize];
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Dataset.Subset: index {i} outside [0, {Count}).");
            Sample(i).CopyTo(f.AsSpan(j * SampleSize));
            Target(i).CopyTo(t.AsSpan(j * TargetSize));
        }
        return new Dataset(f, SampleShape, t, TargetShape);
    }

    /// <summary>All features as one tensor [Count, ...SampleShape].</summary>
    public Tensor FeaturesTensor(Device? device = null) => Tensor.FromArray(Features, [Count, .. SampleShape], device);
    public Tensor TargetsTensor(Device? device = null) => Tensor.FromArray(Targets, [Count, .. TargetShape], device);

    /// <summary>
    /// A seeded random split into train and test parts (scikit-learn's train_test_split with a fixed seed).
    /// </summary>
    public (Dataset Train, Dataset Test) Split(double testFraction, Generator generator)
    {
        if (!(testFraction is > 0 and < 1)) throw new ArgumentException($"Dataset.Split: test fraction must be in (0, 1), got {testFraction}.");
        var order = Enumerable.Range(0, Count).ToArray();
        generator.Shuffle(order.AsSpan());
        int test = (int)Math.Ceiling(Count * testFraction);
        return (Subset(order.AsSpan(test)), Subset(order.AsSpan(0, test)));
    }
}
