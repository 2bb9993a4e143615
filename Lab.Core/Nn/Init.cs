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

    /// <summary>
    /// Keras's orthogonal initialiser: a normal matrix [rows, cols] (rows = all leading dimensions) made orthonormal
    /// by a QR decomposition with the signs of R's diagonal taken out (Gram-Schmidt in double here), times
    /// <paramref name="gain"/>. Rows are orthonormal when rows ≤ cols (W Wᵀ = I), columns otherwise (Wᵀ W = I).
    /// </summary>
    public static Tensor Orthogonal(Generator g, int[] shape, float gain = 1f)
    {
        if (shape.Length < 2) throw new ArgumentException($"Init.Orthogonal: needs a shape of rank 2 or more, got {ShapeUtil.Format(shape)}.");
        int cols = shape[^1], rows = ShapeUtil.Numel(shape) / cols;
        // Orthonormalise the columns of the tall orientation [n, k], k ≤ n.
        bool tall = rows >= cols;
        int n = tall ? rows : cols, k = tall ? cols : rows;
        var draws = new float[n * k];
        g.FillNormal(draws, 0, 1);
        var q = new double[k][];
        for (int j = 0; j < k; j++)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = draws[i * k + j];
            for (int p = 0; p < j; p++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += q[p][i] * v[i];
                for (int i = 0; i < n; i++) v[i] -= dot * q[p][i];
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += v[i] * v[i];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++) v[i] /= norm;
            q[j] = v;
        }
        var w = new float[rows * cols];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
                w[tall ? i * cols + j : j * cols + i] = (float)(gain * q[j][i]);
        return Tensor.FromArray(w, shape);
    }
}
