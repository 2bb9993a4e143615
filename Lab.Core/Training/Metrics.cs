namespace Lab.Core.Training;

/// <summary>A running statistic over batches (Keras's metrics): update per batch, read the result, reset per epoch.</summary>
public abstract class Metric(string name)
{
    public string Name { get; } = name;
    public abstract void Update(Tensor yTrue, Tensor yPred);
    public abstract double Result();
    public abstract void Reset();
}

/// <summary>A weighted mean of values (Keras's Mean): the loss tracker, and custom metrics like My_loss.</summary>
public sealed class Mean(string name) : Metric(name)
{
    private double _sum;
    private long _count;

    public void Update(double value, int weight = 1) { _sum += value * weight; _count += weight; }

    /// <summary>Adds a scalar tensor (e.g. a batch loss) weighted by the batch size.</summary>
    public void Update(Tensor value, int weight = 1) => Update(value.Item(), weight);

    public override void Update(Tensor yTrue, Tensor yPred) => Update(yPred.Mean().Item(), yPred.Shape.Length > 0 ? yPred.Shape[0] : 1);
    public override double Result() => _count == 0 ? 0 : _sum / _count;
    public override void Reset() { _sum = 0; _count = 0; }
}

/// <summary>The fraction of rows whose argmax equals the integer label.</summary>
public sealed class SparseCategoricalAccuracy(string name = "accuracy") : Metric(name)
{
    private long _correct, _count;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        if (yPred.Rank != 2 || yTrue.Rank != 1 || yTrue.Shape[0] != yPred.Shape[0])
            throw new ArgumentException($"{Name}: expected predictions [batch, classes] and labels [batch], got {ShapeUtil.Format(yPred.Shape)} and {ShapeUtil.Format(yTrue.Shape)}.");
        _correct += (long)yPred.ArgMax(1).Eq(yTrue).Sum().Item();
        _count += yTrue.Shape[0];
    }

    public override double Result() => _count == 0 ? 0 : (double)_correct / _count;
    public override void Reset() { _correct = 0; _count = 0; }
}

public sealed class MeanSquaredError(string name = "mse") : Metric(name)
{
    private double _sum;
    private long _count;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        var d = yPred - yTrue.Reshape(yPred.ShapeArray());
        _sum += (d * d).Sum().Item();
        _count += yPred.Numel;
    }

    public override double Result() => _count == 0 ? 0 : _sum / _count;
    public override void Reset() { _sum = 0; _count = 0; }
}

/// <summary>What Fit returns: every logged value per epoch, in order (loss, accuracy, val_loss ...).</summary>
public sealed class History
{
    public Dictionary<string, List<double>> Values { get; } = [];
    public List<int> Epochs { get; } = [];

    public void Add(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        Epochs.Add(epoch);
        foreach (var (k, v) in logs)
        {
            if (!Values.TryGetValue(k, out var list)) Values[k] = list = [];
            list.Add(v);
        }
    }

    public IReadOnlyList<double> this[string key] => Values.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"History has no '{key}'; it has {string.Join(", ", Values.Keys)}.");
}
