using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Experiments.PyTorch;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seed 001 exercise 5: a VAE on the 8x8 digits (latent 10, decoder variance T). The loss is the seed's
/// two terms, mean(-l - 1 + e^l + mu²)/2 + mean((f(mu + eps e^{l/2}) - x)²)/(2T), with one reparameterised
/// sample per image; Adam, batch 16, 20 epochs, T = 0.01. Then 1000 samples f(z), z ~ N(0, I), judged by
/// the digits classifier, and the notes' suggestion: the same training at other temperatures.
/// </summary>
public sealed class VaeExperiment : IExperiment
{
    public static readonly float[] SweepTemperatures = [0.001f, 0.01f, 0.1f, 1f];

    public string Name => "vae";
    public string Description => "variational autoencoder on 8x8 digits (T = 0.01): samples, reconstructions, temperature sweep";
    public static readonly Option<float> Temperature = Define.Float("--temperature", "T", "decoder variance T in the reconstruction term", 0.01f, min: 1e-6f);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 16, min: 1);
    public static readonly Option<float[]> Sweep = Define.FloatList("--sweep", "T1,T2,...|none", "temperatures to train and compare in the sweep figure",
        SweepTemperatures, min: 1e-6f);
    public IReadOnlyList<Option> Options => [Temperature, BatchSize, Sweep, DigitsSource.TrainOn, PyTorchComparison.ComparePyTorch];

    public void Run(ExperimentContext ctx)
    {
        // Data: the digits in [0, 1] (labels are carried along, never used).
        var (train, heldOut) = DigitsSource.ForGenerativeModel(ctx);
        float temperature = ctx.Get(Temperature);
        int epochs = ctx.Epochs(20), batch = ctx.Get(BatchSize);
        var sweepTemperatures = ctx.Get(Sweep);

        // Model and training.
        var clock = Stopwatch.StartNew();
        var (vae, history) = Train(ctx, train, temperature, epochs, batch, verbose: 1);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        ctx.Metric("train_seconds", trainSeconds);
        ctx.Metric("temperature", temperature);
        ctx.Metric("final_loss", history["loss"][^1]);
        ctx.Metric("final_kl_loss", history["kl_loss"][^1]);
        ctx.Metric("final_reconstruction_loss", history["reconstruction_loss"][^1]);
        ctx.WriteHistory(history);
        Checkpoint.Save(ctx.PathFor("checkpoints/vae.ckpt"), vae, info: new CheckpointInfo { Epoch = epochs });

        // Sampling: z ~ N(0, I), x = f(z); 1000 samples judged against the held-out digits.
        var samples = Sample(vae, GeneratedDigits.SampleCount, ctx.Rng(3));
        GeneratedDigits.Write(ctx, samples);
        var judge = GeneratedDigits.Judge(ctx, heldOut);
        judge(samples, "");
        PyTorchComparison.Digits(ctx, "vae_recipe.py", train, epochs, batch, trainSeconds, judge, "--temperature", PyTorchComparison.Arg(temperature));
        Tensor reconstructions;
        using (new NoGrad()) reconstructions = vae.Call(heldOut.FeaturesTensor(ctx.Device).Narrow(0, 0, 10)).To(Device.Cpu);

        // The notes' invitation: the same recipe at other decoder temperatures.
        var sweep = new List<(float T, Tensor Samples)>();
        foreach (var t in sweepTemperatures)
        {
            Tensor s;
            if (t == temperature) s = samples;
            else
            {
                ctx.Log($"temperature sweep: training at T = {t}");
                var (other, h) = Train(ctx, train, t, epochs, batch, verbose: 0);
                ctx.Log($"T = {t}: kl_loss {h["kl_loss"][^1]:0.0000}, reconstruction_loss {h["reconstruction_loss"][^1]:0.0000}");
                s = Sample(other, GeneratedDigits.SampleCount, ctx.Rng(3));
            }
            judge(s, $"sweep_t{t.ToString(System.Globalization.CultureInfo.InvariantCulture)}_");
            sweep.Add((t, s));
        }
        VaeFigures.Draw(ctx, temperature, samples, heldOut, reconstructions, sweep, history);
    }

    private static (Vae, History) Train(ExperimentContext ctx, Dataset train, float temperature, int epochs, int batch, int verbose)
    {
        var vae = new Vae(generator: ctx.Rng(1));
        vae.To(ctx.Device);
        if (verbose > 0) ctx.Log(vae.Summary(1, 1, 8, 8));
        var trainer = new VaeTrainer(vae, temperature, ctx.Rng(4)) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        var callbacks = verbose > 0 ? ctx.StandardCallbacks() : [];
        var history = trainer.Fit(train, epochs, batch, callbacks: callbacks, generator: ctx.Rng(2), verbose: verbose);
        return (vae, history);
    }

    private static Tensor Sample(Vae vae, int n, Generator g)
    {
        using var _ = new NoGrad();
        vae.Eval();
        return vae.Sample(n, g).To(Device.Cpu);
    }
}
