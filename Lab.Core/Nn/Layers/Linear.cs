namespace Lab.Core.Nn;

/// <summary>y = x Wᵀ + b with W stored out x in (PyTorch's layout; the product reads W transposed without a copy).</summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, Activation activation = Activation.None, bool bias = true,
        InitStyle init = InitStyle.Keras, Generator? generator = null,
        Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentException($"Linear: feature counts must be positive, got {inFeatures} -> {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Activation = activation;
        var (w, b) = Init.WeightAndBias(init, generator, [outFeatures, inFeatures], outFeatures, inFeatures, outFeatures);
        Weight = RegisterParameter("weight", w, kernelRegularizer);
        if (bias) Bias = RegisterParameter("bias", b, biasRegularizer);
        ActivityRegularizer = activityRegularizer;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Activation Activation { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 1 || x.Shape[^1] != InFeatures)
            throw new ArgumentException($"Linear({InFeatures} -> {OutFeatures}): expected input [..., {InFeatures}], got {ShapeUtil.Format(x.Shape)}.");
        var y = Tensor.MatMul(x.Rank == 1 ? x.Reshape(1, InFeatures) : x, Weight, false, true);
        if (x.Rank == 1) y = y.Reshape(OutFeatures);
        if (Bias is not null) y = y + Bias;
        return Activations.Apply(Activation, y);
    }

    public override string Describe() => $"Linear({InFeatures} -> {OutFeatures}{Activations.Name(Activation)})";
}
