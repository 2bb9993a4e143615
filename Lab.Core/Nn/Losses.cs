namespace Lab.Core.Nn;

public enum Reduction { Mean, Sum, None }

/// <summary>
/// Loss functions, composed from differentiable primitives (their gradients come for free).
/// Class labels are a 1-D tensor of integral floats, one per row.
/// </summary>
public static class Losses
{
    /// <summary>Keras's clipping constant for probabilities fed to a logarithm.</summary>
    public const float ProbabilityEpsilon = 1e-7f;

    private static Tensor Reduce(Tensor perSample, Reduction r) => r switch
    {
        Reduction.Mean => perSample.Mean(),
        Reduction.Sum => perSample.Sum(),
        _ => perSample,
    };

    private static void CheckClassification(string name, Tensor scores, Tensor labels)
    {
        if (scores.Rank != 2) throw new ArgumentException($"{name}: expected predictions [batch, classes], got {ShapeUtil.Format(scores.Shape)}.");
        if (labels.Rank != 1 || labels.Shape[0] != scores.Shape[0])
            throw new ArgumentException($"{name}: expected {scores.Shape[0]} labels as a 1-D tensor, got {ShapeUtil.Format(labels.Shape)}.");
    }

    /// <summary>
    /// Keras's sparse categorical cross-entropy. From probabilities (the default, a softmax output): each row is
    /// divided by its sum, clipped to [1e-7, 1 - 1e-7] and the label's -log taken, as Keras 3 does; where a
    /// probability is clipped its gradient is zero, so a classifier trained or attacked through confident mistakes
    /// should pass logits. With <paramref name="fromLogits"/>: -log_softmax(logits)[label], stable at any scale.
    /// The loss never looks at how its input was made.
    /// </summary>
    public static Tensor SparseCategoricalCrossEntropy(Tensor predictions, Tensor labels, Reduction reduction = Reduction.Mean, bool fromLogits = false)
    {
        CheckClassification(nameof(SparseCategoricalCrossEntropy), predictions, labels);
        return Reduce(-LogProbabilities(predictions, fromLogits).Gather(labels), reduction);
    }

    /// <summary>
    /// Keras's categorical cross-entropy against one-hot (or soft) targets of the predictions' shape:
    /// -sum(target * log p) per row, with p formed as in <see cref="SparseCategoricalCrossEntropy"/>.
    /// </summary>
    public static Tensor CategoricalCrossEntropy(Tensor predictions, Tensor targets, Reduction reduction = Reduction.Mean, bool fromLogits = false)
    {
        if (predictions.Rank != 2) throw new ArgumentException($"{nameof(CategoricalCrossEntropy)}: expected predictions [batch, classes], got {ShapeUtil.Format(predictions.Shape)}.");
        if (!targets.Shape.SequenceEqual(predictions.Shape))
            throw new ArgumentException($"{nameof(CategoricalCrossEntropy)}: targets {ShapeUtil.Format(targets.Shape)} must have the predictions' shape {ShapeUtil.Format(predictions.Shape)} (one-hot rows).");
        return Reduce(-(targets * LogProbabilities(predictions, fromLogits)).Sum(1), reduction);
    }

    /// <summary>log p per class: a stable log-softmax of logits, or Keras's log(clip(p / sum p)) of probabilities.</summary>
    private static Tensor LogProbabilities(Tensor predictions, bool fromLogits)
    {
        if (fromLogits) return predictions.LogSoftmax(1);
        var p = predictions / predictions.Sum(1, keepDim: true);
        return p.Clamp(ProbabilityEpsilon, 1 - ProbabilityEpsilon).Log();
    }

    /// <summary>Cross-entropy on logits through a stable log-softmax (PyTorch's CrossEntropyLoss).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, Reduction reduction = Reduction.Mean)
    {
        CheckClassification(nameof(CrossEntropy), logits, labels);
        return Reduce(-logits.LogSoftmax(1).Gather(labels), reduction);
    }

    /// <summary>Negative log-likelihood of log-probabilities.</summary>
    public static Tensor Nll(Tensor logProbabilities, Tensor labels, Reduction reduction = Reduction.Mean)
    {
        CheckClassification(nameof(Nll), logProbabilities, labels);
        return Reduce(-logProbabilities.Gather(labels), reduction);
    }

    /// <summary>Mean squared error over all elements (per sample with Reduction.None).</summary>
    public static Tensor Mse(Tensor prediction, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"Mse: prediction {ShapeUtil.Format(prediction.Shape)} and target {ShapeUtil.Format(target.Shape)} differ in shape.");
        var d = prediction - target;
        var sq = d * d;
        return reduction switch
        {
            Reduction.Mean => sq.Mean(),
            Reduction.Sum => sq.Sum(),
            _ => sq.Rank > 1 ? sq.Flatten(1).Mean(1) : sq,
        };
    }

    /// <summary>
    /// Binary cross-entropy on logits in its softplus form: softplus(x) - x t (never overflows), times the optional
    /// per-element <paramref name="weight"/> (broadcast to the logits' shape), as PyTorch's BCEWithLogitsLoss.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Reduction reduction = Reduction.Mean, Tensor? weight = null)
    {
        CheckBinary(nameof(BinaryCrossEntropyWithLogits), "logits", logits, targets, weight);
        var loss = logits.Softplus() - logits * targets;
        return Reduce(weight is null ? loss : loss * weight, reduction);
    }

    /// <summary>
    /// Binary cross-entropy on probabilities, -w (t log p + (1 - t) log(1 - p)), as PyTorch's BCELoss: each log is
    /// clamped at -100, so p = 0 or 1 gives a finite loss (100 per wrong certainty). The gradient is the derivative of
    /// this clamped form: 0 through a clamped log, where PyTorch's backward instead divides by max(p (1 - p), 1e-12).
    /// Probabilities outside [0, 1] are not rejected (that would need a device read); use the logits form when
    /// the probabilities come from a sigmoid.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor probabilities, Tensor targets, Reduction reduction = Reduction.Mean, Tensor? weight = null)
    {
        CheckBinary(nameof(BinaryCrossEntropy), "probabilities", probabilities, targets, weight);
        var loss = -(targets * ClampedLog(probabilities) + (1f - targets) * ClampedLog(1f - probabilities));
        return Reduce(weight is null ? loss : loss * weight, reduction);
    }

    /// <summary>
    /// max(log p, -100), and -100 for p ≤ 0, with finite gradients everywhere: the log only sees normal inputs
    /// (the "double where"), since the log's own 1/p at p = 0 times a zero mask would be NaN. A subnormal p above the
    /// clamp (e^-100 = 3.7e-44 to 1.2e-38, e.g. sigmoid(-95)) keeps its exact log as the value, but its slope is that
    /// at float's smallest normal, 8.5e37: 1/p itself overflows float32 below 2.9e-39.
    /// </summary>
    private const float SmallestNormal = 1.17549435e-38f;   // 2^-126

    private static Tensor ClampedLog(Tensor p)
    {
        var (positive, normal, one) = (p.Gt(0f), p.Ge(SmallestNormal), Tensor.Scalar(1f, p.Device));
        var detached = p.Detach();
        var subnormalLog = Tensor.Where(positive, detached, one).Log() + (p - detached) * (1f / SmallestNormal);
        var log = Tensor.Where(normal, Tensor.Where(normal, p, one).Log(), subnormalLog).Clamp(-100f, float.PositiveInfinity);
        return Tensor.Where(positive, log, Tensor.Scalar(-100f, p.Device));
    }

    private static void CheckBinary(string name, string what, Tensor input, Tensor targets, Tensor? weight)
    {
        if (!input.Shape.SequenceEqual(targets.Shape))
            throw new ArgumentException($"{name}: {what} {ShapeUtil.Format(input.Shape)} and targets {ShapeUtil.Format(targets.Shape)} differ in shape.");
        if (weight is null) return;
        bool broadcasts = weight.Rank <= input.Rank;
        for (int i = 1; broadcasts && i <= weight.Rank; i++)
            broadcasts = weight.Shape[^i] == 1 || weight.Shape[^i] == input.Shape[^i];
        if (!broadcasts)
            throw new ArgumentException($"{name}: weight {ShapeUtil.Format(weight.Shape)} does not broadcast to the {what}' shape {ShapeUtil.Format(input.Shape)}.");
    }

    /// <summary>
    /// KL(N(mu, exp(logVar)) || N(0, I)) per element, (exp(l) + mu² - 1 - l) / 2, reduced over everything:
    /// the seeds' VAE term mean(-l - 1 + exp(l) + mu²)/2.
    /// </summary>
    public static Tensor GaussianKl(Tensor mu, Tensor logVar, Reduction reduction = Reduction.Mean)
    {
        if (!mu.Shape.SequenceEqual(logVar.Shape))
            throw new ArgumentException($"GaussianKl: mu {ShapeUtil.Format(mu.Shape)} and logVar {ShapeUtil.Format(logVar.Shape)} differ in shape.");
        var kl = (logVar.Exp() + mu * mu - logVar - 1f) * 0.5f;
        return reduction switch
        {
            Reduction.Mean => kl.Mean(),
            Reduction.Sum => kl.Sum(),
            _ => kl.Sum(1),
        };
    }
}
