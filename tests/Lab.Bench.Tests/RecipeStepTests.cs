using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Training;
using Lab.Models;

namespace Lab.Bench.Tests;

/// <summary>
/// The benchmark times the step the experiments train with: the gan, vae and score workloads call the recipes'
/// trainers (Lab.Models), and one workload step gives, bit for bit, the parameters that one batch of the same
/// trainer's Fit (the experiments' path, through TrainStep) gives from the same seeds and images.
/// </summary>
public class RecipeStepTests
{
    [Fact]
    public void The_gan_workload_steps_as_the_gan_experiment_trains()
    {
        var run = Workload.Find("gan_digits_b16_d5").Create(Device.Cpu, 16);
        var gan = new Gan(generator: new Generator(1));
        var trainer = new GanTrainer(gan, discriminatorSteps: 5, new Generator(3));
        AssertSameStep(run, trainer, gan);
        Assert.True(trainer.DLoss.Result() > 0 && trainer.GLoss.Result() > 0);
    }

    [Fact]
    public void The_vae_workload_steps_as_the_vae_experiment_trains()
    {
        var run = Workload.Find("vae_digits_b16").Create(Device.Cpu, 16);
        var vae = new Vae(generator: new Generator(1));
        AssertSameStep(run, new VaeTrainer(vae, temperature: 0.01f, new Generator(3)), vae);
    }

    [Fact]
    public void The_score_workload_steps_as_the_score_experiment_trains()
    {
        var run = Workload.Find("score_toy_b16").Create(Device.Cpu, 16);
        var model = new ScoreMlp(new Generator(1));
        AssertSameStep(run, new ScoreTrainer(model, lr: 1e-2f, projections: null), model);
    }

    /// <summary>One workload step against one batch of Fit on the workload's first batch, unshuffled.</summary>
    private static void AssertSameStep(WorkloadRun run, Trainer trainer, Module model)
    {
        var start = Parameters(model);
        Assert.Equal(start, run.Models.SelectMany(Parameters).ToList());   // the same initial weights
        var x = run.Inputs[0];
        var data = new Dataset(x.ToArray(), x.ShapeArray()[1..], new float[x.Shape[0]], [1]);
        trainer.Fit(data, epochs: 1, batchSize: x.Shape[0], shuffle: false, verbose: 0);
        run.Step();
        var trained = Parameters(model);
        var stepped = run.Models.SelectMany(Parameters).ToList();
        Assert.Equal(trained.Count, stepped.Count);
        for (int i = 0; i < trained.Count; i++)
            Assert.True(trained[i].SequenceEqual(stepped[i]), $"parameter {i} differs between the workload's step and Fit's");
        Assert.Contains(Enumerable.Range(0, start.Count), i => !start[i].SequenceEqual(trained[i]));   // the step trained
    }

    private static List<float[]> Parameters(Module m) => m.Parameters().Select(p => p.ToArray()).ToList();
}
