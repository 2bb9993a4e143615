using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Models;

/// <summary>
/// WGAN-GP's training loop (Gulrajani et al. 2017, Algorithm 1) as a Trainer: every batch of real digits
/// is one critic update on E[D(fake)] − E[D(real)] + λ·penalty with fresh fakes, and after every
/// <see cref="CriticSteps"/>-th critic update the generator takes one update on −E[D(G(z))]; both with
/// Adam(1e-4, β = (0, 0.9)). The fakes come from the generator in training mode (its batch norms use the
/// batch's statistics), the same mode its own loss is computed in, so the critic judges the images the
/// generator is trained to improve.
/// </summary>
public sealed class WganGpTrainer : Trainer
{
    private readonly WganGp _gan;
    private readonly Adam _criticOptimizer, _generatorOptimizer;
    private readonly Generator _noise;
    private int _epoch = -1;

    public WganGpTrainer(WganGp gan, Generator noise, int criticSteps = 5, float lambda = 10f, float lr = 1e-4f, string label = "wgan-gp")
        : base(gan)
    {
        if (criticSteps < 1) throw new ArgumentException($"WganGpTrainer: critic steps must be at least 1, got {criticSteps}.");
        if (!(lambda >= 0)) throw new ArgumentException($"WganGpTrainer: the penalty weight must be non-negative, got {lambda}.");
        _gan = gan;
        _noise = noise;
        (CriticSteps, Lambda, Label) = (criticSteps, lambda, label);
        _criticOptimizer = new Adam(gan.Critic.Parameters(), lr, beta1: 0f, beta2: 0.9f);
        _generatorOptimizer = new Adam(gan.Generator.Parameters(), lr, beta1: 0f, beta2: 0.9f);
    }

    public int CriticSteps { get; }
    public float Lambda { get; }
    /// <summary>Names the run in the error raised when a loss stops being finite.</summary>
    public string Label { get; }
    public long CriticUpdates { get; private set; }
    public long GeneratorUpdates { get; private set; }

    public Mean CriticLoss { get; } = new("critic_loss");
    /// <summary>E[D(real)] − E[D(fake)] on the critic's batches, before its update.</summary>
    public Mean WassersteinEstimate { get; } = new("w_estimate");
    /// <summary>E[(‖∇D(x̂)‖ − 1)²], without the factor λ.</summary>
    public Mean GradientPenalty { get; } = new("gradient_penalty");
    public Mean GradNorm { get; } = new("grad_norm");
    public Mean GeneratorLoss { get; } = new("g_loss");
    public override IReadOnlyList<Metric> Metrics => [CriticLoss, WassersteinEstimate, GradientPenalty, GradNorm, GeneratorLoss];

    protected override void TrainStep(Batch batch)
    {
        if (batch.Index == 0) _epoch++;   // Fit hands a step its batch, not its epoch; each epoch starts at batch 0
        var (generator, critic) = (_gan.Generator, _gan.Critic);
        int n = batch.Size;

        Tensor fake;
        generator.Train();
        using (new NoGrad()) fake = generator.Generate(n, _noise);
        _criticOptimizer.ZeroGrad();
        var loss = critic.Loss(batch.X, fake, _noise, Lambda);
        loss.Loss.Backward();
        _criticOptimizer.Step();
        CriticUpdates++;
        CriticLoss.Update(Finite(loss.Loss, "critic loss", batch), n);
        WassersteinEstimate.Update(loss.WassersteinEstimate.Item(), n);
        GradientPenalty.Update(loss.Penalty.Item(), n);
        GradNorm.Update(loss.MeanGradNorm.Item(), n);

        if (CriticUpdates % CriticSteps != 0) return;
        _generatorOptimizer.ZeroGrad();
        var lossG = critic.GeneratorLoss(generator.Generate(n, _noise));
        lossG.Backward();
        _generatorOptimizer.Step();
        GeneratorUpdates++;
        GeneratorLoss.Update(Finite(lossG, "generator loss", batch), n);
    }

    // One read per update; on the CPU it costs nothing, and a NaN caught here names where it appeared.
    private double Finite(Tensor loss, string what, Batch batch)
    {
        float v = loss.Item();
        NonFinite.Check(v, what, _epoch + 1, batch.Index + 1, NonFiniteHint ?? $"of {Label} (critic update {CriticUpdates})");
        return v;
    }
}
