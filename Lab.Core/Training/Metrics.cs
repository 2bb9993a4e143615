namespace Lab.Core.Training;

/// <summary>A running statistic over batches (Keras's metrics): update per batch, read the result, reset per epoch.</summary>
public abstract class Metric(string name)
{
    public string Name { get; } = name;
    public abstract void Update(Tensor yTrue, Tensor yPred);
    public abstract double Result();
    public abstract void Reset();

    /// <summary>
    /// Whether a NaN or infinity in this metric stops Fit: the running means (losses, My_loss, d_loss ...) and the mean
    /// squared error. Other metrics keep to themselves: a ratio a user defines may be NaN legitimately (0/0).
    /// </summary>
    internal virtual bool Guarded => false;

    /// <summary>
    /// For a <see cref="Guarded"/> metric, a number that turns NaN or infinite when the result would, read without
    /// resetting anything. Fit calls it after every step only where that costs no wait for a device (the CPU).
    /// </summary>
    internal virtual double Peek() => 0;
}

/// <summary>
/// A running sum kept on the device of the tensors added to it, read back only when asked: on a GPU a
/// training step then never waits for the device because of its metrics.
/// </summary>
internal sealed class DeviceSum
{
    private Tensor? _acc;
    private bool _pending;
    private double _host;

    public void Add(Tensor value, float weight)
    {
        if (value.Numel != 1) throw new ArgumentException($"metric: expected a single value, got shape {ShapeUtil.Format(value.Shape)}.");
        if (_acc is null || _acc.Device != value.Device)
        {
            Flush();
            using var persistent = TensorScope.Suspend();   // outlives the step that first fills it
            _acc = Tensor.Zeros([1], value.Device);
        }
        _acc.Backend.Axpy(weight, value, _acc);   // a backend call: one element each, nothing recorded
        _pending = true;
    }

    public void Add(double value) => _host += value;

    public double Value { get { Flush(); return _host; } }

    /// <summary>The sum so far without flushing it (reading it waits for the device, so the trainer does it only on the CPU).</summary>
    public double Peek() => _pending && _acc is not null ? _host + _acc.Item() : _host;

    public void Reset() { _host = 0; if (_acc is not null && _pending) _acc.Fill(0); _pending = false; }

    private void Flush()
    {
        if (!_pending || _acc is null) return;
        _host += _acc.Item();
        _acc.Fill(0);
        _pending = false;
    }
}

/// <summary>A weighted mean of values (Keras's Mean): the loss tracker, and custom metrics like My_loss.</summary>
public sealed class Mean(string name) : Metric(name)
{
    private readonly DeviceSum _sum = new();
    private long _count;

    public void Update(double value, int weight = 1) { _sum.Add(value * weight); _count += weight; }

    /// <summary>Adds a scalar tensor (e.g. a batch loss) weighted by the batch size, without reading it back.</summary>
    public void Update(Tensor value, int weight = 1) { _sum.Add(value, weight); _count += weight; }

    public override void Update(Tensor yTrue, Tensor yPred) => Update(yPred.Mean(), yPred.Shape.Length > 0 ? yPred.Shape[0] : 1);
    public override double Result() => _count == 0 ? 0 : _sum.Value / _count;
    public override void Reset() { _sum.Reset(); _count = 0; }
    internal override bool Guarded => true;
    internal override double Peek() => _sum.Peek();
}

/// <summary>The fraction of rows whose argmax equals the integer label.</summary>
public sealed class SparseCategoricalAccuracy(string name = "accuracy") : Metric(name)
{
    private readonly DeviceSum _correct = new();
    private long _count;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        if (yPred.Rank != 2 || yTrue.Rank != 1 || yTrue.Shape[0] != yPred.Shape[0])
            throw new ArgumentException($"{Name}: expected predictions [batch, classes] and labels [batch], got {ShapeUtil.Format(yPred.Shape)} and {ShapeUtil.Format(yTrue.Shape)}.");
        using var _ = new Autodiff.NoGrad();
        _correct.Add(yPred.ArgMax(1).Eq(yTrue).Sum(), 1f);
        _count += yTrue.Shape[0];
    }

    public override double Result() => _count == 0 ? 0 : _correct.Value / _count;
    public override void Reset() { _correct.Reset(); _count = 0; }
}

public sealed class MeanSquaredError(string name = "mse") : Metric(name)
{
    private readonly DeviceSum _sum = new();
    private long _count;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var _ = new Autodiff.NoGrad();
        var d = yPred - yTrue.Reshape(yPred.Shape);
        _sum.Add((d * d).Sum(), 1f);
        _count += yPred.Numel;
    }

    public override double Result() => _count == 0 ? 0 : _sum.Value / _count;
    public override void Reset() { _sum.Reset(); _count = 0; }
    internal override bool Guarded => true;
    internal override double Peek() => _sum.Peek();
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
