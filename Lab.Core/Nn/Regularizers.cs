namespace Lab.Core.Nn;

/// <summary>
/// A penalty on a tensor added to the training loss (Keras's keras.regularizers): on a weight
/// (kernelRegularizer, biasRegularizer, or <see cref="Module.AddWeightRegularizer"/>) or on a layer's output
/// (<see cref="Module.ActivityRegularizer"/>). <see cref="Module.RegularizationLoss"/> collects them and the
/// Trainer adds them to the loss it minimises and reports.
/// </summary>
public abstract class Regularizer
{
    /// <summary>The penalty on <paramref name="x"/>, a rank-0 tensor differentiable in x.</summary>
    public abstract Tensor Penalty(Tensor x);
}

/// <summary>Keras's keras.regularizers factories: Regularizers.L2(1e-4).</summary>
public static class Regularizers
{
    /// <summary>Keras's regularizers.L1(l1): l1 · sum |x|.</summary>
    public static Regularizer L1(float l1 = 0.01f) => new L1L2Regularizer(l1, 0);
    /// <summary>Keras's regularizers.L2(l2): l2 · sum x².</summary>
    public static Regularizer L2(float l2 = 0.01f) => new L1L2Regularizer(0, l2);
    /// <summary>Keras's regularizers.L1L2(l1, l2): l1 · sum |x| + l2 · sum x² (Keras's defaults are 0 for both).</summary>
    public static Regularizer L1L2(float l1 = 0, float l2 = 0) => new L1L2Regularizer(l1, l2);
}

/// <summary>l1 · sum |x| + l2 · sum x², either term left out when its factor is 0.</summary>
public sealed class L1L2Regularizer : Regularizer
{
    public L1L2Regularizer(float l1, float l2)
    {
        if (!(l1 >= 0 && float.IsFinite(l1)) || !(l2 >= 0 && float.IsFinite(l2)))
            throw new ArgumentException($"Regularizer: factors must be finite and non-negative, got l1 = {l1}, l2 = {l2}.");
        (L1, L2) = (l1, l2);
    }

    public float L1 { get; }
    public float L2 { get; }

    public override Tensor Penalty(Tensor x)
    {
        Tensor? penalty = null;
        if (L1 > 0) penalty = x.Abs().Sum() * L1;
        if (L2 > 0) penalty = penalty is null ? x.Square().Sum() * L2 : penalty + x.Square().Sum() * L2;
        return penalty ?? x.Sum() * 0f;
    }

    public override string ToString() => L1 > 0 && L2 > 0 ? $"L1L2(l1={L1}, l2={L2})" : L1 > 0 ? $"L1({L1})" : $"L2({L2})";
}
