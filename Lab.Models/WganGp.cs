using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The WGAN-GP critic for 8x8 digits (Gulrajani et al. 2017): Conv(1->w, 4x4, stride 2, pad 1) 8->4,
/// LeakyReLU 0.2, Conv(w->2w, 4x4, stride 2, pad 1) 4->2, LeakyReLU 0.2, Flatten(8w), Linear(8w->1).
/// A score, not a logit: no sigmoid, and no batch norm, because the penalty constrains the gradient of
/// each sample's score with respect to that sample alone, which batch statistics would couple.
/// </summary>
public sealed class WganCritic : Module
{
    private readonly Sequential _net;

    public WganCritic(int width = 32, Generator? generator = null)
    {
        if (width < 1) throw new ArgumentException($"WganCritic: width must be positive, got {width}.");
        Width = width;
        _net = RegisterModule("net", new Sequential(
            new Conv2d(1, width, 4, stride: 2, padding: 1, generator: generator),
            new LeakyReLU(0.2f),
            new Conv2d(width, 2 * width, 4, stride: 2, padding: 1, generator: generator),
            new LeakyReLU(0.2f),
            new Flatten(),
            new Linear(8 * width, 1, generator: generator)));
    }

    public int Width { get; }

    /// <summary>The convolutions, first to last (tests check that the penalty's gradient reaches their weights).</summary>
    public IReadOnlyList<Conv2d> Convolutions => [.. _net.Layers.OfType<Conv2d>()];

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != 1 || x.Shape[2] != 8 || x.Shape[3] != 8)
            throw new ArgumentException($"WganCritic: expected N x 1 x 8 x 8 images, got {ShapeUtil.Format(x.Shape)}.");
        return _net.Call(x);
    }

    /// <summary>
    /// The gradient penalty E[(‖∇D(x̂)‖₂ − 1)²] on x̂ = ε·real + (1 − ε)·fake, one ε ~ U(0, 1) per sample,
    /// and the per-sample gradient norms. The input gradient is taken with createGraph, so the penalty can be
    /// differentiated again with respect to the critic's parameters (through the transposed convolutions
    /// that are the convolutions' input gradients).
    /// </summary>
    public (Tensor Penalty, Tensor Norms) GradientPenalty(Tensor real, Tensor fake, Generator g)
    {
        var eps = Tensor.Rand(g, [real.Shape[0], 1, 1, 1], device: real.Device);
        var xHat = (real * eps + fake * (1f - eps)).Detach().RequireGrad();
        var grad = Autograd.Grad(Call(xHat).Sum(), xHat, createGraph: true)
            ?? throw new InvalidOperationException("WganCritic: the score does not depend on its input.");
        // The tiny floor keeps the square root's derivative finite where a gradient vanishes.
        var norms = ((grad * grad).Sum([1, 2, 3]) + 1e-12f).Sqrt();
        return ((norms - 1f).Square().Mean(), norms);
    }

    /// <summary>
    /// The critic's loss E[D(fake)] − E[D(real)] + λ·penalty, with the Wasserstein estimate
    /// E[D(real)] − E[D(fake)], the penalty and the mean gradient norm (all three detached, for logging).
    /// </summary>
    public CriticLoss Loss(Tensor real, Tensor fake, Generator g, float lambda = 10f)
    {
        var wasserstein = Call(real).Mean() - Call(fake).Mean();
        var (penalty, norms) = GradientPenalty(real, fake, g);
        return new CriticLoss(penalty * lambda - wasserstein, wasserstein.Detach(), penalty.Detach(), norms.Detach().Mean());
    }

    /// <summary>The generator's loss −E[D(G(z))].</summary>
    public Tensor GeneratorLoss(Tensor fake) => Call(fake).Mean().Neg();
}

/// <summary>One critic loss and what is logged beside it.</summary>
public sealed record CriticLoss(Tensor Loss, Tensor WassersteinEstimate, Tensor Penalty, Tensor MeanGradNorm);

/// <summary>The seed GAN's generator beside a WGAN-GP critic, as one module (for checkpoints and devices).</summary>
public sealed class WganGp : Module
{
    public WganGp(int latent = 10, int criticWidth = 32, Generator? generator = null)
    {
        Generator = RegisterModule("generator", new GanGenerator(latent, generator));
        Critic = RegisterModule("critic", new WganCritic(criticWidth, generator));
    }

    public GanGenerator Generator { get; }
    public WganCritic Critic { get; }

    /// <summary>Images from latent codes.</summary>
    public override Tensor Forward(Tensor z) => Generator.Call(z);
}
