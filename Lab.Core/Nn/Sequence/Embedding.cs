namespace Lab.Core.Nn;

/// <summary>
/// Keras's Embedding: integer ids (held as floats) of any shape to vectors, [...] to [..., outputDim], by a lookup
/// in the "embeddings" matrix [inputDim, outputDim] (initialised U(-0.05, 0.05), Keras's default). With
/// <paramref name="maskZero"/>, id 0 is padding: <see cref="ComputeMask"/> gives ids != 0, which recurrent layers
/// and pooling honour (Keras then reserves id 0, so inputDim is the vocabulary size plus one).
/// </summary>
public sealed class Embedding : Module, IMaskedLayer
{
    public Embedding(int inputDim, int outputDim, bool maskZero = false, Generator? generator = null)
    {
        if (inputDim < 1 || outputDim < 1) throw new ArgumentException($"Embedding: inputDim and outputDim must be positive, got {inputDim} and {outputDim}.");
        (InputDim, OutputDim, MaskZero) = (inputDim, outputDim, maskZero);
        Embeddings = RegisterParameter("embeddings", Init.Uniform(generator ?? Init.Default, [inputDim, outputDim], 0.05f));
    }

    public int InputDim { get; }
    public int OutputDim { get; }
    public bool MaskZero { get; }
    public Tensor Embeddings { get; }

    public override Tensor Forward(Tensor ids)
    {
        if (ids.Rank == 0) throw new ArgumentException($"Embedding({InputDim}, {OutputDim}): expected a tensor of ids, got a scalar.");
        Span<int> shape = stackalloc int[ids.Rank + 1];
        ids.Shape.CopyTo(shape);
        shape[^1] = OutputDim;
        try
        {
            return Embeddings.IndexSelect(0, ids.Reshape(ids.Numel)).Reshape(shape);
        }
        catch (ArgumentException e) when (e.Message.StartsWith("IndexSelect", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Embedding({InputDim}, {OutputDim}): ids must be integers in [0, {InputDim}); " +
                $"input {ShapeUtil.Format(ids.Shape)}: {e.Message}", e);
        }
    }

    public Tensor Forward(Tensor ids, Tensor? mask) => Forward(ids);

    /// <summary>ids != 0 when masking zero (Keras), else the incoming mask (none).</summary>
    public Tensor? ComputeMask(Tensor ids, Tensor? mask) => MaskZero ? ids.Ne(Tensor.Scalar(0f, ids.Device)) : mask;

    public override string Describe() => $"Embedding({InputDim}, {OutputDim}{(MaskZero ? ", mask_zero" : "")})";
}
