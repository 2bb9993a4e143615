using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// A noise-conditional score network for flattened images (Song and Ermon 2019), small enough for 8x8 digits
/// on a CPU: an MLP whose every hidden layer also receives an embedding of log σ (sines and cosines of
/// log σ at a few fixed frequencies, then a learned linear map), SiLU activations, and an output divided
/// by σ, so that s(x, σ) = net(x, σ) / σ. With that scaling the denoising score-matching loss weighted by σ²
/// (Song and Ermon's λ(σ) = σ²) is the plain regression of net(x + σz, σ) onto -z at every level.
/// </summary>
public sealed class NoiseConditionalScoreNet : Module
{
    /// <summary>Frequencies of the log σ features (log σ spans about [-4.6, 1.6] for σ in [0.01, 5]).</summary>
    private static readonly float[] Frequencies = [0.25f, 0.5f, 1f, 2f, 4f, 8f];

    private readonly Linear[] _layers, _embeddings;
    private readonly Linear _output;

    public NoiseConditionalScoreNet(int dim = 64, int hidden = 256, int depth = 3, Generator? generator = null)
    {
        if (depth < 1) throw new ArgumentException($"NoiseConditionalScoreNet: depth must be at least 1, got {depth}.");
        Dim = dim;
        _layers = new Linear[depth];
        _embeddings = new Linear[depth];
        for (int i = 0; i < depth; i++)
        {
            _layers[i] = RegisterModule($"layer{i}", new Linear(i == 0 ? dim : hidden, hidden, generator: generator));
            _embeddings[i] = RegisterModule($"noise{i}", new Linear(FeatureCount, hidden, bias: false, generator: generator));
        }
        _output = RegisterModule("output", new Linear(hidden, dim, generator: generator));
    }

    public int Dim { get; }

    /// <summary>log σ itself, then a sine and a cosine per frequency.</summary>
    public static int FeatureCount => 1 + 2 * Frequencies.Length;

    /// <summary>The conditioning features for each row's σ (computed on the host: nothing to differentiate).</summary>
    public static Tensor NoiseFeatures(ReadOnlySpan<float> sigmas, Device device)
    {
        var f = new float[sigmas.Length * FeatureCount];
        for (int i = 0; i < sigmas.Length; i++)
        {
            float t = MathF.Log(sigmas[i]);
            int o = i * FeatureCount;
            f[o] = t;
            for (int k = 0; k < Frequencies.Length; k++)
            {
                f[o + 1 + 2 * k] = MathF.Sin(Frequencies[k] * t);
                f[o + 2 + 2 * k] = MathF.Cos(Frequencies[k] * t);
            }
        }
        return Tensor.FromArray(f, [sigmas.Length, FeatureCount], device);
    }

    private static Tensor Silu(Tensor x) => x * x.Sigmoid();

    /// <summary>net(x, σ): N x dim in, N x dim out, the negated noise estimate.</summary>
    public Tensor Net(Tensor x, Tensor noiseFeatures)
    {
        var h = x.Rank == 2 ? x : x.Flatten(1);
        for (int i = 0; i < _layers.Length; i++) h = Silu(_layers[i].Call(h) + _embeddings[i].Call(noiseFeatures));
        return _output.Call(h);
    }

    /// <summary>s(x, σ) = net(x, σ) / σ, with <paramref name="inverseSigma"/> an N x 1 column of 1/σ.</summary>
    public Tensor Score(Tensor x, Tensor noiseFeatures, Tensor inverseSigma) => Net(x, noiseFeatures) * inverseSigma;

    /// <summary>
    /// Denoising score matching at the given per-row noise levels: with x̃ = x + σz the score of the
    /// perturbed data is -z/σ, and σ² |s(x̃, σ) + z/σ|² = |net(x̃, σ) + z|², averaged over rows and pixels.
    /// </summary>
    public Tensor DenoisingLoss(Tensor x, ReadOnlySpan<float> sigmas, Generator g)
    {
        var flat = x.Rank == 2 ? x : x.Flatten(1);
        int n = flat.Shape[0];
        var z = Tensor.RandN(g, [n, Dim], device: flat.Device);
        var sigma = Tensor.FromArray(sigmas, [n, 1], flat.Device);
        var noisy = flat + z * sigma;
        var d = Net(noisy, NoiseFeatures(sigmas, flat.Device)) + z;
        return (d * d).Mean();
    }

    /// <summary>Single-tensor use (e.g. Summary): net at σ = 1.</summary>
    public override Tensor Forward(Tensor x)
    {
        var ones = new float[x.Shape[0]];
        Array.Fill(ones, 1f);
        return Net(x, NoiseFeatures(ones, x.Device));
    }
}
