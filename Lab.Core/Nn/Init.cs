namespace Lab.Core.Nn;

/// <summary>Which framework's default initialisation a layer reproduces.</summary>
public enum InitStyle
{
    /// <summary>Glorot-uniform weights, zero biases (Keras's Dense and Conv defaults; the seeds' recipes).</summary>
    Keras,
    /// <summary>Kaiming-uniform with a = sqrt(5) weights and U(±1/sqrt(fan_in)) biases (PyTorch's defaults).</summary>
    PyTorch,
}

/// <summary>Seeded initialisers. Layers draw from an explicit generator, or from <see cref="Default"/>.</summary>
public static class Init
{
    [ThreadStatic] private static Generator? _default;

    /// <summary>The generator layers use when none is given; <see cref="Seed"/> makes model construction repeatable.</summary>
    public static Generator Default => _default ??= new Generator(0);

    public static void Seed(ulong seed) => _default = new Generator(seed);

    public static Tensor GlorotUniform(Generator g, int[] shape, int fanIn, int fanOut)
    {
        float limit = MathF.Sqrt(6f / (fanIn + fanOut));
        return Tensor.Rand(g, shape, -limit, limit);
    }

    public static Tensor Uniform(Generator g, int[] shape, float bound) => Tensor.Rand(g, shape, -bound, bound);

    /// <summary>A weight and bias initialised per <paramref name="style"/> for the given fans.</summary>
    public static (Tensor Weight, Tensor Bias) WeightAndBias(InitStyle style, Generator? g, int[] weightShape, int biasSize, int fanIn, int fanOut)
    {
        g ??= Default;
        if (style == InitStyle.Keras) return (GlorotUniform(g, weightShape, fanIn, fanOut), Tensor.Zeros(biasSize));
        float bound = 1f / MathF.Sqrt(Math.Max(1, fanIn)); // kaiming_uniform(a=sqrt(5)) reduces to this bound
        return (Uniform(g, weightShape, bound), Uniform(g, [biasSize], bound));
    }
}
