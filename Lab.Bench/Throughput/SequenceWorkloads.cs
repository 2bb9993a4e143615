using Lab.Core;
using Lab.Core.Diagnostics;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Models;

namespace Lab.Bench.Throughput;

/// <summary>
/// lstm_adding_b32_t200: the sequence experiment's step on the adding problem (<see cref="AddingModels.Create"/>, the
/// experiment's data generator, MSE, Adam as the experiment's default), one optimizer update per step.
/// </summary>
internal sealed class AddingRun : WorkloadRun
{
    private readonly Sequential _model;
    private readonly Adam _opt;

    public AddingRun(string kind, int units, int length, Device d, int batch) : this(Pool(length, d, batch), kind, units, d) { }

    private AddingRun((Tensor[] X, Tensor[] Y) pool, string kind, int units, Device d) : base(pool.X, pool.Y)
    {
        _model = AddingModels.Create(kind, units, new Generator(1));
        _model.To(d);
        _opt = new Adam(_model.Parameters(), lr: AddingModels.LearningRate);
    }

    private static (Tensor[] X, Tensor[] Y) Pool(int length, Device d, int batch)
    {
        var g = new Generator(2);
        var batches = Enumerable.Range(0, Workload.Pool).Select(_ => AddingProblem.Sample(g, batch, length, d)).ToArray();
        return (batches.Select(b => b.X).ToArray(), batches.Select(b => b.Y).ToArray());
    }

    public override IReadOnlyList<Module> Models => [_model];

    protected override Tensor Step(Tensor x, Tensor? y)
    {
        ProfilePhase.ZeroGrad(_opt);
        Tensor loss;
        using (new ProfilePhase("forward", "loss"))
            loss = Losses.Mse(_model.Call(x), y!);
        ProfilePhase.Backward(loss);
        ProfilePhase.Update(_opt);
        return loss;
    }
}
