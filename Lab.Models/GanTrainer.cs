using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Diagnostics;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Models;

/// <summary>
/// The seed's GAN train_step (seed 001 exercise 7) with its two optimizers and two loss trackers: per step the
/// discriminator takes <see cref="DiscriminatorSteps"/> Adam steps on L_D = mean(softplus(-D(x)) + softplus(D(G(z))))
/// with fresh fakes from the generator in inference mode (training mode with <see cref="FakesInTrainingMode"/>),
/// then the generator, in training mode, takes one Adam step on L_G = mean(softplus(-D(G(z)))); as many z as real
/// images. <see cref="Step"/> is the one definition of that step: the gan experiment trains with it through
/// <see cref="Trainer.Fit"/>, and Lab.Bench's gan workload times it.
/// </summary>
public sealed class GanTrainer : Trainer
{
    private readonly Gan _gan;
    private readonly Adam _dOptimizer, _gOptimizer;
    private readonly Generator _noise;

    public GanTrainer(Gan gan, int discriminatorSteps, Generator noise) : base(gan)
    {
        if (discriminatorSteps < 1) throw new ArgumentException($"GanTrainer: discriminator steps must be at least 1, got {discriminatorSteps}.");
        _gan = gan;
        _noise = noise;
        DiscriminatorSteps = discriminatorSteps;
        _dOptimizer = new Adam(gan.Discriminator.Parameters());
        _gOptimizer = new Adam(gan.Generator.Parameters());
    }

    public int DiscriminatorSteps { get; }
    /// <summary>Whether the discriminator's fakes come from the generator in training mode (batch statistics) rather than inference mode.</summary>
    public bool FakesInTrainingMode { get; init; }
    /// <summary>
    /// The latent codes for n images, n x latent on the model's device: N(0, I) from the trainer's noise generator unless
    /// set (GanStepTests feeds the codes PyTorch drew).
    /// </summary>
    public Func<int, Tensor>? Latents { get; init; }
    public Mean DLoss { get; } = new("d_loss");
    public Mean GLoss { get; } = new("g_loss");
    public override IReadOnlyList<Metric> Metrics => [DLoss, GLoss];
    /// <summary>Both optimizers: under data parallelism each averages its own gradients over the ranks.</summary>
    public override IReadOnlyList<Optimizer> Optimizers => [_dOptimizer, _gOptimizer];

    /// <summary>
    /// One step on a batch of real images: the discriminator's updates, then the generator's. Returns the last
    /// discriminator loss and the generator loss (tensors of the step, on the model's device).
    /// </summary>
    public (Tensor DLoss, Tensor GLoss) Step(Tensor real)
    {
        var (generator, discriminator) = (_gan.Generator, _gan.Discriminator);
        int n = real.Shape[0];
        Tensor lossD = null!;
        for (int k = 0; k < DiscriminatorSteps; k++)
        {
            // Fakes from the generator in inference mode; no gradient reaches it from this loss.
            Tensor fake;
            if (FakesInTrainingMode) generator.Train(); else generator.Eval();
            using (new NoGrad())
            using (new ProfilePhase("forward", "fakes (G in inference mode)"))
                fake = generator.Call(DrawLatents(n));
            ProfilePhase.ZeroGrad(_dOptimizer);
            using (new ProfilePhase("forward", "loss"))
                lossD = discriminator.Loss(real, fake);
            ProfilePhase.Backward(lossD);
            ProfilePhase.Update(_dOptimizer);
        }
        generator.Train();
        ProfilePhase.ZeroGrad(_gOptimizer);
        Tensor lossG;
        using (new ProfilePhase("forward", "loss"))
            lossG = discriminator.GeneratorLoss(generator.Call(DrawLatents(n)));
        ProfilePhase.Backward(lossG);
        ProfilePhase.Update(_gOptimizer);
        return (lossD, lossG);
    }

    private Tensor DrawLatents(int n) =>
        Latents?.Invoke(n) ?? Tensor.RandN(_noise, [n, _gan.Generator.Latent], device: _gan.Generator.Device);

    protected override void TrainStep(Batch batch)
    {
        var (dLoss, gLoss) = Step(batch.X);
        DLoss.Update(dLoss.Item(), batch.Size);
        GLoss.Update(gLoss, batch.Size);
    }
}
