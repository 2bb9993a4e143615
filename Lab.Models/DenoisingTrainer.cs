using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Diagnostics;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Models;

/// <summary>
/// Denoising score matching for a noise-conditional score network (the score-digits experiment): one noise level
/// drawn per image from the ladder, Adam, and the weight average updated after each step. <see cref="Step"/> is the
/// one definition of that step.
/// </summary>
public sealed class DenoisingTrainer : Trainer
{
    private readonly NoiseConditionalScoreNet _net;
    private readonly float[] _sigmas;
    private readonly Generator _noise;
    private readonly WeightAverage? _average;
    private float[] _levels = [];

    public DenoisingTrainer(NoiseConditionalScoreNet net, float[] sigmas, float lr, Generator noise, WeightAverage? average) : base(net)
    {
        if (sigmas.Length == 0) throw new ArgumentException("DenoisingTrainer: the noise ladder is empty.");
        _net = net;
        _sigmas = sigmas;
        _noise = noise;
        _average = average;
        Optimizer = new Adam(net.Parameters(), lr);
    }

    /// <summary>One update on a batch of images, each at a random level of the ladder; returns the loss (a tensor of the step).</summary>
    public Tensor Step(Tensor x)
    {
        int n = x.Shape[0];
        if (_levels.Length != n) _levels = new float[n];   // reused while the batch size stays
        for (int i = 0; i < n; i++) _levels[i] = _sigmas[_noise.NextInt(_sigmas.Length)];
        ProfilePhase.ZeroGrad(Optimizer!);
        Tensor loss;
        using (new ProfilePhase("forward", "loss"))
            loss = _net.DenoisingLoss(x, _levels, _noise);
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(Optimizer!);
        _average?.Update();
        return loss;
    }

    protected override void TrainStep(Batch batch) => LossTracker.Update(Step(batch.X), batch.Size);
}
