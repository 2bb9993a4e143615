using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The GAN generator of seed 001 exercise 7: the VAE decoder's shape with batch normalisation after the
/// reshape and after each hidden transposed convolution (relu), ending in a sigmoid 8x8 image.
/// </summary>
public sealed class GanGenerator : Module
{
    private readonly Sequential _net;

    public GanGenerator(int latent = 10, Generator? generator = null)
    {
        Latent = latent;
        _net = RegisterModule("net", Vae.Decoder(latent, generator, batchNorm: true, Activation.Relu));
    }

    public int Latent { get; }
    public override Tensor Forward(Tensor z) => _net.Call(z);
    public Tensor Generate(int n, Generator g) => Call(Tensor.RandN(g, [n, Latent], device: Device));
}

/// <summary>The discriminator: Conv(1->4) -> Conv(4->8) -> Conv(8->16), 3x3 relu -> Flatten(64) -> Dense(64->1), a logit.</summary>
public sealed class GanDiscriminator : Module
{
    private readonly Sequential _net;

    public GanDiscriminator(Generator? generator = null)
    {
        _net = RegisterModule("net", new Sequential(
            new Conv2d(1, 4, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(4, 8, 3, activation: Activation.Relu, generator: generator),
            new Conv2d(8, 16, 3, activation: Activation.Relu, generator: generator),
            new Flatten(),
            new Linear(64, 1, generator: generator)));
    }

    public override Tensor Forward(Tensor x) => _net.Call(x);

    /// <summary>L_D = mean(softplus(-D(x)) + softplus(D(G(z)))).</summary>
    public Tensor Loss(Tensor real, Tensor fake) => (Call(real).Neg().Softplus() + Call(fake).Softplus()).Mean();

    /// <summary>L_G = mean(softplus(-D(G(z)))).</summary>
    public Tensor GeneratorLoss(Tensor fake) => Call(fake).Neg().Softplus().Mean();
}

/// <summary>The generator and the discriminator as one module (for checkpoints, devices and a Trainer).</summary>
public sealed class Gan : Module
{
    public Gan(int latent = 10, Generator? generator = null)
    {
        Generator = RegisterModule("generator", new GanGenerator(latent, generator));
        Discriminator = RegisterModule("discriminator", new GanDiscriminator(generator));
    }

    public GanGenerator Generator { get; }
    public GanDiscriminator Discriminator { get; }

    /// <summary>Images from latent codes.</summary>
    public override Tensor Forward(Tensor z) => Generator.Call(z);
}
