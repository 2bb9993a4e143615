using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// A noise-conditional score network for flattened images (Song and Ermon 2019), small enough for 8x8 digits
/// on a CPU. Its network F (<see cref="ScoreConvNet"/> or <see cref="ScoreMlpNet"/>) is conditioned on log σ
/// through features of it (log σ, and sines and cosines of it at a few fixed frequencies) fed to every layer.
/// <para>
/// The network is wrapped in Karras et al.'s (2022) preconditioning so that one network serves every level from
/// σ ≈ 5 down to 0.01: it sees x·c_in(σ) (unit variance at every level), and the denoiser is
/// D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in x, σ). The score follows from Tweedie's formula,
/// s(x, σ) = (D(x, σ) - x) / σ². Denoising score matching, λ(σ) |s(x + σz, σ) + z/σ|², becomes with
/// λ(σ) = σ⁴/c_out² the plain regression |F - (x - c_skip x̃)/c_out|², of unit scale at every level.
/// </para>
/// </summary>
public abstract class NoiseConditionalScoreNet : Module
{
    /// <summary>Frequencies of the log σ features (log σ spans about [-4.6, 1.6] for σ in [0.01, 5]).</summary>
    private static readonly float[] Frequencies = [0.25f, 0.5f, 1f, 2f, 4f, 8f];

    /// <param name="dataStd">The data's standard deviation σ_data in the preconditioning (Karras et al. use 0.5).</param>
    protected NoiseConditionalScoreNet(int dim, float dataStd)
    {
        Dim = dim;
        DataStd = dataStd;
    }

    /// <summary>Values per sample (64 for 8x8 images); the network takes and returns N x Dim.</summary>
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

    protected static Tensor Silu(Tensor x) => x * x.Sigmoid();

    /// <summary>The raw network F(x, σ): N x Dim in (already scaled by c_in), N x Dim out.</summary>
    public abstract Tensor Net(Tensor x, Tensor features);

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

/// <summary>The score network as an MLP: hidden layers of SiLU units, each also fed the σ embedding.</summary>
public sealed class ScoreMlpNet : NoiseConditionalScoreNet
{
    private readonly Linear[] _layers, _embeddings;
    private readonly Linear _output;

    public ScoreMlpNet(int dim = 64, int hidden = 256, int depth = 3, float dataStd = 0.5f, Generator? generator = null) : base(dim, dataStd)
    {
        if (depth < 1) throw new ArgumentException($"ScoreMlpNet: depth must be at least 1, got {depth}.");
        _layers = new Linear[depth];
        _embeddings = new Linear[depth];
        for (int i = 0; i < depth; i++)
        {
            _layers[i] = RegisterModule($"layer{i}", new Linear(i == 0 ? dim : hidden, hidden, generator: generator));
            _embeddings[i] = RegisterModule($"noise{i}", new Linear(FeatureCount, hidden, bias: false, generator: generator));
        }
        _output = RegisterModule("output", new Linear(hidden, dim, generator: generator));
    }

    public override Tensor Net(Tensor x, Tensor features)
    {
        var h = x;
        for (int i = 0; i < _layers.Length; i++) h = Silu(_layers[i].Call(h) + _embeddings[i].Call(features));
        return _output.Call(h);
    }
}

/// <summary>
/// The score network as a small convolutional net on side x side images: 3x3 "same" convolutions with SiLU
/// and, added to every channel of every layer, the σ embedding and a global code of the whole image (an
/// MLP layer on the flattened pixels), so that local strokes are drawn by the convolutions while the digit's
/// overall shape stays coherent.
/// </summary>
public sealed class ScoreConvNet : NoiseConditionalScoreNet
{
    private readonly Conv2d[] _layers;
    private readonly Linear[] _biases;
    private readonly Linear _global, _globalNoise;
    private readonly Conv2d _output;
    private readonly int _side, _channels;

    public ScoreConvNet(int side = 8, int channels = 32, int depth = 4, int global = 256, float dataStd = 0.5f, Generator? generator = null)
        : base(side * side, dataStd)
    {
        if (depth < 1) throw new ArgumentException($"ScoreConvNet: depth must be at least 1, got {depth}.");
        (_side, _channels) = (side, channels);
        _global = RegisterModule("global", new Linear(Dim, global, generator: generator));
        _globalNoise = RegisterModule("global_noise", new Linear(FeatureCount, global, bias: false, generator: generator));
        _layers = new Conv2d[depth];
        _biases = new Linear[depth];
        for (int i = 0; i < depth; i++)
        {
            _layers[i] = RegisterModule($"conv{i}", new Conv2d(i == 0 ? 1 : channels, channels, 3, padding: Padding.SameSize, generator: generator));
            _biases[i] = RegisterModule($"bias{i}", new Linear(global + FeatureCount, channels, bias: false, generator: generator));
        }
        _output = RegisterModule("output", new Conv2d(channels, 1, 3, padding: Padding.SameSize, generator: generator));
    }

    public override Tensor Net(Tensor x, Tensor features)
    {
        int n = x.Shape[0];
        var code = Tensor.Concat([Silu(_global.Call(x) + _globalNoise.Call(features)), features], 1);
        var h = x.Reshape(n, 1, _side, _side);
        for (int i = 0; i < _layers.Length; i++)
            h = Silu(_layers[i].Call(h) + _biases[i].Call(code).Reshape(n, _channels, 1, 1));
        return _output.Call(h).Reshape(n, Dim);
    }
}
