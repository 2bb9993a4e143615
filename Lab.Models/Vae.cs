using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The VAE of seed 001 exercise 5, latent size 10. Encoder: Conv(1->4) -> Conv(4->8) -> Conv(8->16), all
/// 3x3 relu, Flatten(64), then Dense(64->10) heads for the mean and the log-variance. Decoder:
/// Dense(10->256, relu) -> Reshape(16, 4, 4) -> ConvT(16->8, 2) -> ConvT(8->4, 2), leaky relu (Keras's 0.2)
/// -> ConvT(4->1, 3, sigmoid): 4 -> 5 -> 6 -> 8 pixels.
/// </summary>
public sealed class Vae : Module
{
    private readonly Sequential _encoder, _decoder;
    private readonly Linear _mu, _logVar;

    public Vae(int latent = 10, Generator? generator = null)
    {
        Latent = latent;
        _encoder = RegisterModule("encoder", new Sequential(
            new Conv2d(1, 4, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(4, 8, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(8, 16, 3, activation: Activation.Relu, generator: generator),
            new Flatten()));
        _mu = RegisterModule("mu", new Linear(64, latent, generator: generator));
        _logVar = RegisterModule("log_var", new Linear(64, latent, generator: generator));
        _decoder = RegisterModule("decoder", Decoder(latent, generator, batchNorm: false, Activation.LeakyRelu));
    }

    public int Latent { get; }

    /// <summary>The decoder/generator trunk shared by the VAE and the GAN (the GAN adds batch normalisation).</summary>
    internal static Sequential Decoder(int latent, Generator? g, bool batchNorm, Activation hidden)
    {
        var s = new Sequential(new Linear(latent, 256, Activation.Relu, generator: g), new Reshape(16, 4, 4));
        if (batchNorm) s.Add(new BatchNorm2d(16, momentum: 0.01f, eps: 1e-3f));
        s.Add(new ConvTranspose2d(16, 8, 2, activation: hidden, generator: g, leakySlope: 0.2f));
        if (batchNorm) s.Add(new BatchNorm2d(8, momentum: 0.01f, eps: 1e-3f));
        s.Add(new ConvTranspose2d(8, 4, 2, activation: hidden, generator: g, leakySlope: 0.2f));
        if (batchNorm) s.Add(new BatchNorm2d(4, momentum: 0.01f, eps: 1e-3f));
        s.Add(new ConvTranspose2d(4, 1, 3, activation: Activation.Sigmoid, generator: g));
        return s;
    }

    /// <summary>The posterior's mean and log-variance for a batch of N x 1 x 8 x 8 images.</summary>
    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var h = _encoder.Call(x);
        return (_mu.Call(h), _logVar.Call(h));
    }

    /// <summary>f(z): N x latent -> N x 1 x 8 x 8 in [0, 1].</summary>
    public Tensor Decode(Tensor z) => _decoder.Call(z);

    /// <summary>The seed's loss, mean(-l - 1 + exp(l) + mu²)/2 + mean((f(mu + eps exp(l/2)) - x)²)/(2T), as its two terms.</summary>
    public (Tensor Kl, Tensor Reconstruction) Loss(Tensor x, Generator g, float temperature)
    {
        var (mu, logVar) = Encode(x);
        var eps = Tensor.RandN(g, mu.Shape, device: mu.Device);
        var z = mu + eps * (logVar * 0.5f).Exp();
        var recon = Decode(z);
        return (Losses.GaussianKl(mu, logVar), Losses.Mse(recon, x) / (2 * temperature));
    }

    public Tensor Sample(int n, Generator g) => Decode(Tensor.RandN(g, [n, Latent], device: Device));

    /// <summary>Reconstructions from the posterior mean.</summary>
    public override Tensor Forward(Tensor x) => Decode(Encode(x).Mu);
}
