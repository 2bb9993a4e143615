using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Diagnostics;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Models;

/// <summary>
/// The seed's VAE train_step (seed 001): the KL term plus the reconstruction term MSE/(2T) with one
/// reparameterised sample, Adam(1e-3), both terms tracked as metrics beside their sum. <see cref="Step"/> is the one
/// definition of that step: the vae experiment trains with it through <see cref="Trainer.Fit"/>, and Lab.Bench's vae
/// workload times it.
/// </summary>
public sealed class VaeTrainer : Trainer
{
    private readonly Vae _vae;
    private readonly Generator _noise;

    public VaeTrainer(Vae vae, float temperature, Generator noise) : base(vae)
    {
        if (!(temperature > 0)) throw new ArgumentException($"VaeTrainer: the decoder temperature must be positive, got {temperature}.");
        _vae = vae;
        _noise = noise;
        Temperature = temperature;
        Optimizer = new Adam(vae.Parameters());
    }

    public float Temperature { get; }
    public Mean KlLoss { get; } = new("kl_loss");
    public Mean ReconstructionLoss { get; } = new("reconstruction_loss");
    public override IReadOnlyList<Metric> Metrics => [LossTracker, KlLoss, ReconstructionLoss];

    /// <summary>One update on a batch of images; returns the loss and its two terms (tensors of the step).</summary>
    public (Tensor Loss, Tensor Kl, Tensor Reconstruction) Step(Tensor x)
    {
        ProfilePhase.ZeroGrad(Optimizer!);
        Tensor kl, reconstruction, loss;
        using (new ProfilePhase("forward", "loss"))
        {
            (kl, reconstruction) = _vae.Loss(x, _noise, Temperature);
            loss = kl + reconstruction;
        }
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(Optimizer!);
        return (loss, kl, reconstruction);
    }

    protected override void TrainStep(Batch batch)
    {
        var (loss, kl, reconstruction) = Step(batch.X);
        LossTracker.Update(loss, batch.Size);
        KlLoss.Update(kl, batch.Size);
        ReconstructionLoss.Update(reconstruction, batch.Size);
    }
}
