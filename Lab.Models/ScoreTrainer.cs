using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Diagnostics;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Models;

/// <summary>
/// The seed's score-matching train_step (seed 001 exercise 9): Hyvärinen's loss mean(|s(x)|² + 2 tr(ds/dx)) with
/// the exact trace through higher-order autodiff, or sliced score matching when given random projections; Adam.
/// <see cref="Step"/> is the one definition of that step: the score experiment trains with it through
/// <see cref="Trainer.Fit"/>, and Lab.Bench's score workload times it.
/// </summary>
public sealed class ScoreTrainer : Trainer
{
    private readonly ScoreMlp _model;
    private readonly Generator? _projections;

    /// <param name="projections">Random projections for sliced score matching; null for the exact loss.</param>
    public ScoreTrainer(ScoreMlp model, float lr, Generator? projections) : base(model)
    {
        _model = model;
        _projections = projections;
        Optimizer = new Adam(model.Parameters(), lr);
    }

    /// <summary>One update on a batch of points; returns the loss (a tensor of the step).</summary>
    public Tensor Step(Tensor x)
    {
        ProfilePhase.ZeroGrad(Optimizer!);
        Tensor loss;
        using (new ProfilePhase("forward", "loss"))
            loss = _projections is null ? _model.ImplicitLoss(x) : _model.SlicedLoss(x, _projections);
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(Optimizer!);
        return loss;
    }

    protected override void TrainStep(Batch batch) => LossTracker.Update(Step(batch.X), batch.Size);
}
