namespace Lab.Core.Nn;

/// <summary>
/// Keras's LayerNormalization: each sample normalised over <c>axis</c> (the last by default) to mean 0 and biased
/// variance 1, with <c>epsilon</c> (Keras's 1e-3) added to the variance, then scaled by gamma and shifted by beta
/// (learned, of the normalised axes' sizes; left out with <c>scale: false</c> / <c>center: false</c>). Trailing axes
/// use the fused <see cref="Tensor.LayerNorm"/>; other axes are moved to the end around it.
/// </summary>
public sealed class LayerNormalization : Module
{
    private readonly int[] _axes, _sizes;

    /// <summary>Normalises the last axis, of <paramref name="features"/> elements.</summary>
    public LayerNormalization(int features, float epsilon = 1e-3f, bool center = true, bool scale = true,
        Regularizer? gammaRegularizer = null, Regularizer? betaRegularizer = null)
        : this([features], [-1], epsilon, center, scale, gammaRegularizer, betaRegularizer) { }

    /// <summary>Normalises over <paramref name="axes"/> (negative counts from the end), whose sizes are <paramref name="sizes"/>.</summary>
    public LayerNormalization(int[] sizes, int[] axes, float epsilon = 1e-3f, bool center = true, bool scale = true,
        Regularizer? gammaRegularizer = null, Regularizer? betaRegularizer = null)
    {
        if (sizes.Length == 0 || sizes.Length != axes.Length)
            throw new ArgumentException($"LayerNormalization: give one size per normalised axis, got sizes [{string.Join(", ", sizes)}] for axes [{string.Join(", ", axes)}].");
        if (sizes.Any(s => s < 1)) throw new ArgumentException($"LayerNormalization: sizes must be positive, got [{string.Join(", ", sizes)}].");
        if (axes.Any(a => a == 0)) throw new ArgumentException("LayerNormalization: axis 0 is the batch axis and cannot be normalised over.");
        if (axes.Distinct().Count() != axes.Length) throw new ArgumentException($"LayerNormalization: axes [{string.Join(", ", axes)}] repeat.");
        if (!(epsilon >= 0)) throw new ArgumentException($"LayerNormalization: epsilon must be non-negative, got {epsilon}.");
        (_sizes, _axes, Epsilon) = ((int[])sizes.Clone(), (int[])axes.Clone(), epsilon);
        if (scale) Gamma = RegisterParameter("gamma", Tensor.Ones(sizes), gammaRegularizer);
        if (center) Beta = RegisterParameter("beta", Tensor.Zeros(sizes), betaRegularizer);
    }

    public float Epsilon { get; }
    /// <summary>The learned scale (ones at first); null without scale.</summary>
    public Tensor? Gamma { get; }
    /// <summary>The learned shift (zeros at first); null without center.</summary>
    public Tensor? Beta { get; }

    public override Tensor Forward(Tensor x)
    {
        Span<int> axes = stackalloc int[_axes.Length];
        bool trailing = true;
        for (int i = 0; i < axes.Length; i++)
        {
            int a = _axes[i] < 0 ? _axes[i] + x.Rank : _axes[i];
            if (a <= 0 || a >= x.Rank || x.Shape[a] != _sizes[i])
                throw new ArgumentException($"{Describe()}: input {ShapeUtil.Format(x.Shape)} has no axis {_axes[i]} of size {_sizes[i]} (axis 0 is the batch).");
            axes[i] = a;
            trailing &= a == x.Rank - axes.Length + i;
        }
        if (trailing) return Tensor.LayerNorm(x, _sizes, Gamma, Beta, Epsilon);
        // Move the normalised axes to the end (in the order given, matching gamma and beta), and back.
        Span<int> perm = stackalloc int[x.Rank], inverse = stackalloc int[x.Rank];
        int n = 0;
        for (int d = 0; d < x.Rank; d++) if (!axes.Contains(d)) perm[n++] = d;
        axes.CopyTo(perm[n..]);
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return Tensor.LayerNorm(x.Permute(perm), _sizes, Gamma, Beta, Epsilon).Permute(inverse);
    }

    public override string Describe() => $"LayerNormalization([{string.Join(", ", _sizes)}], axis=[{string.Join(", ", _axes)}])";
}
