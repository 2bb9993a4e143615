using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// A noise-conditional score network for flattened images (Song and Ermon 2019), small enough for 8x8 digits
/// on a CPU: an MLP whose every hidden layer also receives an embedding of log σ (log σ, and sines and
/// cosines of it at a few fixed frequencies, through a learned linear map), with SiLU activations.
/// <para>
/// The MLP is wrapped in Karras et al.'s (2022) preconditioning so that one network serves every level from
/// σ ≈ 5 down to 0.01: it sees x·c_in(σ) (unit variance at every level), and the denoiser is
/// D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in x, σ). The score follows from Tweedie's formula,
/// s(x, σ) = (D(x, σ) - x) / σ². Denoising score matching, λ(σ) |s(x + σz, σ) + z/σ|², becomes with
/// λ(σ) = σ⁴/c_out² the plain regression |F - (x - c_skip x̃)/c_out|², of unit scale at every level.
/// </para>
/// </summary>
public sealed class NoiseConditionalScoreNet : Module
{
    /// <summary>Frequencies of the log σ features (log σ spans about [-4.6, 1.6] for σ in [0.01, 5]).</summary>
    private static readonly float[] Frequencies = [0.25f, 0.5f, 1f, 2f, 4f, 8f];

    private readonly Linear[] _layers, _embeddings;
    private readonly Linear _output;

    /// <param name="dataStd">The data's standard deviation σ_data in the preconditioning (Karras et al. use 0.5).</param>
    public NoiseConditionalScoreNet(int dim = 64, int hidden = 256, int depth = 3, float dataStd = 0.5f, Generator? generator = null)
    {
        if (depth < 1) throw new ArgumentException($"NoiseConditionalScoreNet: depth must be at least 1, got {depth}.");
        Dim = dim;
        DataStd = dataStd;
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
    public float DataStd { get; }

    /// <summary>log σ itself, then a sine and a cosine per frequency.</summary>
    public static int FeatureCount => 1 + 2 * Frequencies.Length;

    /// <summary>The per-row conditioning on σ, computed on the host (nothing here is differentiated).</summary>
    public sealed record Condition(Tensor Features, Tensor CIn, Tensor CSkip, Tensor COut, Tensor InverseVariance);

    public Condition Conditioning(ReadOnlySpan<float> sigmas, Device device)
    {
        int n = sigmas.Length;
        var f = new float[n * FeatureCount];
        float[] cIn = new float[n], cSkip = new float[n], cOut = new float[n], inv = new float[n];
        float d2 = DataStd * DataStd;
        for (int i = 0; i < n; i++)
        {
            float s = sigmas[i], t = MathF.Log(s), total = s * s + d2;
            int o = i * FeatureCount;
            f[o] = t;
            for (int k = 0; k < Frequencies.Length; k++)
            {
                f[o + 1 + 2 * k] = MathF.Sin(Frequencies[k] * t);
                f[o + 2 + 2 * k] = MathF.Cos(Frequencies[k] * t);
            }
            cIn[i] = 1 / MathF.Sqrt(total);
            cSkip[i] = d2 / total;
            cOut[i] = s * DataStd / MathF.Sqrt(total);
            inv[i] = 1 / (s * s);
        }
        return new Condition(Tensor.FromArray(f, [n, FeatureCount], device), Column(cIn, device), Column(cSkip, device),
            Column(cOut, device), Column(inv, device));
    }

    /// <summary>The same σ for <paramref name="n"/> rows.</summary>
    public Condition Conditioning(float sigma, int n, Device device)
    {
        var s = new float[n];
        Array.Fill(s, sigma);
        return Conditioning(s, device);
    }

    private static Tensor Column(float[] v, Device device) => Tensor.FromArray(v, [v.Length, 1], device);

    private static Tensor Silu(Tensor x) => x * x.Sigmoid();

    /// <summary>The raw network F(x, σ): N x dim in, N x dim out.</summary>
    public Tensor Net(Tensor x, Tensor features)
    {
        var h = x;
        for (int i = 0; i < _layers.Length; i++) h = Silu(_layers[i].Call(h) + _embeddings[i].Call(features));
        return _output.Call(h);
    }

    /// <summary>D(x, σ) = c_skip x + c_out F(c_in x, σ): the estimate of the clean image.</summary>
    public Tensor Denoise(Tensor x, Condition c) => x * c.CSkip + Net(x * c.CIn, c.Features) * c.COut;

    /// <summary>s(x, σ) = (D(x, σ) - x) / σ².</summary>
    public Tensor Score(Tensor x, Condition c) => (Denoise(x, c) - x) * c.InverseVariance;

    /// <summary>
    /// Denoising score matching at the given per-row noise levels (see the class summary): x̃ = x + σz and
    /// the mean over rows and pixels of (F(c_in x̃, σ) - (x - c_skip x̃)/c_out)².
    /// </summary>
    public Tensor DenoisingLoss(Tensor x, ReadOnlySpan<float> sigmas, Generator g)
    {
        var flat = x.Rank == 2 ? x : x.Flatten(1);
        int n = flat.Shape[0];
        var c = Conditioning(sigmas, flat.Device);
        var z = Tensor.RandN(g, [n, Dim], device: flat.Device);
        var noisy = flat + z * Tensor.FromArray(sigmas, [n, 1], flat.Device);
        var target = (flat - noisy * c.CSkip) / c.COut;
        var d = Net(noisy * c.CIn, c.Features) - target;
        return (d * d).Mean();
    }

    /// <summary>Single-tensor use (e.g. Summary): the denoiser at σ = 1.</summary>
    public override Tensor Forward(Tensor x)
    {
        var flat = x.Rank == 2 ? x : x.Flatten(1);
        return Denoise(flat, Conditioning(1f, flat.Shape[0], flat.Device));
    }
}
