using System.Diagnostics;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Beyond the seeds, which note that plain score matching fails on 8x8 images and point to noise-conditional
/// models: a noise-conditional score network (Song and Ermon 2019) on the digits. Training: denoising score
/// matching at noise levels σ on a geometric ladder from the largest distance between two training digits
/// (Song and Ermon 2020, technique 1) down to 0.01, one random level per image per step. Sampling: annealed
/// Langevin dynamics from uniform noise, a fixed number of steps per level with step size ε σ²/σ_min², then
/// one denoising step x + σ_min² s(x, σ_min). The network, conditioned on log σ with Karras et al.'s
/// preconditioning (see <see cref="NoiseConditionalScoreNet"/>), is a small convolutional net with a global code
/// of the image (<see cref="ScoreConvNet"/>; an MLP with `--net mlp` gives blurrier strokes), trained with Adam,
/// a cosine learning-rate decay and a weight average; 300 epochs of batch 64 and 20 levels x 20 steps take a
/// few minutes on two cores.
/// </summary>
public sealed class ScoreDigitsExperiment : IExperiment
{
    public string Name => "score-digits";
    public string Description => "noise-conditional score network on 8x8 digits: denoising score matching, annealed Langevin sampling";
    public IReadOnlyList<OptionSpec> Options =>
    [
        new("levels", "L", "noise levels on the geometric ladder", "20"),
        new("sigma-max", "X", "largest noise level", "the largest distance between two training digits"),
        new("sigma-min", "X", "smallest noise level", "0.01"),
        new("steps-per-level", "N", "Langevin steps at each level", "20"),
        new("step-eps", "X", "ε of the step size ε σ²/σ_min²", "1e-5"),
        new("net", "conv|mlp", "score network: 3x3 convolutions with a global code of the image, or an MLP on the 64 pixels", "conv", ["conv", "mlp"]),
        new("hidden", "N", "width of the score network (channels of the conv net, units of the MLP)", "32 (conv), 256 (mlp)"),
        new("batch-size", "N", "mini-batch size", "64"),
        new("lr", "X", "Adam learning rate", "0.001"),
        new("lr-schedule", "cosine|constant", "learning rate over the epochs", "cosine", ["cosine", "constant"]),
        new("ema", "X", "decay of the weight average used for sampling (0: none)", "0.999"),
        new("checkpoint", "PATH", "sample from a trained network (a score_digits.ckpt) instead of training one"),
        DigitsSource.TrainOn,
    ];

    /// <summary>Options that shape training, which sampling from --checkpoint skips.</summary>
    private static readonly string[] TrainingOptions = ["epochs", "batch-size", "lr", "lr-schedule", "ema"];

    public void Run(ExperimentContext ctx)
    {
        var checkpoint = ctx.Options.String("checkpoint");
        if (checkpoint is not null && TrainingOptions.FirstOrDefault(ctx.Options.Has) is string unused)
            throw new UsageException($"score-digits: --{unused} shapes training, which --checkpoint skips; give one or the other.");

        // Data, and the top of the noise ladder: the largest distance between two training digits.
        var (train, heldOut) = DigitsSource.ForGenerativeModel(ctx);
        double largest = LargestDistance(train);
        ctx.Metric("largest_distance", largest);
        float sigmaMax = ctx.Options.Float("sigma-max", (float)largest, min: 1e-4f);
        float sigmaMin = ctx.Options.Float("sigma-min", 0.01f, min: 1e-5f, max: sigmaMax);
        int levels = ctx.Options.Int("levels", ctx.Quick ? 5 : 20, min: 1, max: 1000);
        var sigmas = Ladder(sigmaMax, sigmaMin, levels);
        ctx.Log($"largest distance between training digits {largest:0.000}; {levels} noise levels from {sigmaMax:0.000} to {sigmaMin}");
        ctx.Metric("sigmas", sigmas);

        int steps = ctx.Options.Int("steps-per-level", ctx.Quick ? 1 : 20, min: 1, max: 10_000);
        float eps = ctx.Options.Float("step-eps", 1e-5f, min: 0);

        // Model and training.
        NoiseConditionalScoreNet net = ctx.Options.String("net", "conv") == "conv"
            ? new ScoreConvNet(channels: ctx.Options.Int("hidden", 32, min: 1, max: 1024), generator: ctx.Rng(1))
            : new ScoreMlpNet(hidden: ctx.Options.Int("hidden", 256, min: 1, max: 16384), generator: ctx.Rng(1));
        net.To(ctx.Device);
        ctx.Log(net.Summary(1, 64));
        float decay = ctx.Options.Float("ema", 0.999f, min: 0, max: 0.999999f);
        var history = new History();
        if (checkpoint is string path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"score-digits: checkpoint '{path}' not found.");
            Checkpoint.Load(path, net);
            ctx.Log($"sampling from the network in {path}");
        }
        else history = Train(ctx, net, train, sigmas, decay);
        Checkpoint.Save(ctx.PathFor("checkpoints/score_digits.ckpt"), net, info: new CheckpointInfo { Epoch = history.Epochs.Count });

        // Annealed Langevin sampling; the first 100 chains are kept after every level for the GIF.
        var clock = Stopwatch.StartNew();
        var (samples, frames) = AnnealedLangevin(net, sigmas, GeneratedDigits.SampleCount, steps, eps, ctx.Rng(5), ctx.Device,
            ctx.NonFiniteHint(("step-eps", "the step size ε"), ("sigma-max", "the largest noise level")));
        ctx.Metric("sampling_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("steps_per_level", steps);
        ctx.Metric("step_eps", eps);
        GeneratedDigits.Write(ctx, samples);
        GeneratedDigits.Judge(ctx, heldOut)(samples, "");
        ScoreDigitsFigures.Draw(ctx, samples, frames, sigmas, history);
    }

    private static History Train(ExperimentContext ctx, NoiseConditionalScoreNet net, Dataset train, float[] sigmas, float decay)
    {
        var average = decay > 0 ? new WeightAverage(net, decay) : null;
        var trainer = new DenoisingTrainer(net, sigmas, ctx.Options.Float("lr", 1e-3f, min: 0), ctx.Rng(4), average)
        {
            Output = ctx.Output,
            NonFiniteHint = ctx.NonFiniteHint(("lr", "the learning rate"), ("sigma-max", "the largest noise level")),
        };
        int epochs = ctx.Epochs(300);
        var clock = Stopwatch.StartNew();
        int every = Math.Max(1, epochs / 15);
        var progress = new LambdaCallback((epoch, logs) =>
        {
            if ((epoch + 1) % every == 0 || epoch + 1 == epochs)
                ctx.Log($"epoch {epoch + 1}/{epochs}: loss {logs["loss"]:0.00000} ({clock.Elapsed.TotalSeconds:0}s)");
        });
        var history = trainer.Fit(train, epochs, ctx.Options.Int("batch-size", 64, min: 1),
            callbacks: [.. ctx.StandardCallbacks(), progress, .. Schedule(ctx, epochs)], generator: ctx.Rng(2), verbose: 0);
        ctx.Metric("train_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("final_loss", history["loss"][^1]);
        ctx.WriteHistory(history);
        average?.CopyToModel();
        return history;
    }

    /// <summary>Cosine decay to a tenth of the rate: the last epochs refine the weights the average is taken of.</summary>
    private static Callback[] Schedule(ExperimentContext ctx, int epochs) =>
        ctx.Options.String("lr-schedule", "cosine") == "cosine" ? [new LearningRateScheduler(new CosineDecay(epochs, ctx.Options.Float("lr", 1e-3f) / 10))] : [];

    /// <summary>σ_1 = max > σ_2 > ... > σ_L = min with a constant ratio.</summary>
    public static float[] Ladder(float max, float min, int levels) =>
        levels == 1 ? [max] : Enumerable.Range(0, levels).Select(i => (float)(max * Math.Pow(min / (double)max, i / (double)(levels - 1)))).ToArray();

    /// <summary>The largest Euclidean distance between two images of the data set.</summary>
    public static double LargestDistance(Dataset data)
    {
        var f = data.Features;
        int n = data.Count, d = data.SampleSize;
        var largest = new double[n];
        Parallel.For(0, n, i =>
        {
            var a = f.AsSpan(i * d, d);
            double best = 0;
            for (int j = i + 1; j < n; j++)
            {
                var b = f.AsSpan(j * d, d);
                double s = 0;
                for (int k = 0; k < d; k++) { double t = a[k] - b[k]; s += t * t; }
                best = Math.Max(best, s);
            }
            largest[i] = best;
        });
        return Math.Sqrt(largest.Max());
    }

    /// <summary>
    /// Song and Ermon's Algorithm 1 from x ~ U(0, 1): at each level σ_i, steps of x + (α/2) s(x, σ_i) + √α z
    /// with α = ε σ_i²/σ_L², then x + σ_L² s(x, σ_L) (Tweedie's denoising step). Returns the samples
    /// (N x 1 x 8 x 8) and, per level plus the denoised end, the first 100 chains. Chains that turn NaN or infinite
    /// stop the sampling (<see cref="NonFiniteException"/>, with <paramref name="hint"/>): the kept ones after each
    /// level, every one at the end.
    /// </summary>
    public static (Tensor Samples, List<float[]> Frames) AnnealedLangevin(NoiseConditionalScoreNet net, float[] sigmas, int n,
        int stepsPerLevel, float eps, Generator g, Device device, string? hint = null)
    {
        using var _ = new NoGrad();
        net.Eval();
        int dim = net.Dim, keep = Math.Min(n, 100);
        var x = Tensor.Rand(g, [n, dim], 0, 1, device);
        var frames = new List<float[]> { x.Narrow(0, 0, keep).ToArray() };
        float last = sigmas[^1];
        for (int level = 0; level < sigmas.Length; level++)
        {
            float sigma = sigmas[level];
            var c = net.Conditioning(sigma, n, device);
            float alpha = eps * sigma * sigma / (last * last);
            for (int t = 0; t < stepsPerLevel; t++)
            {
                // Each step's activations are recycled for the next (TensorScope); the chains live on in x.
                using var step = TensorScope.Begin();
                x.CopyFrom(x + net.Score(x, c) * (alpha / 2) + Tensor.RandN(g, [n, dim], 0, MathF.Sqrt(alpha), device));
            }
            frames.Add(x.Narrow(0, 0, keep).ToArray());
            NonFinite.Check(frames[^1], "annealed Langevin samples", $"at noise level {level + 1} of {sigmas.Length} (σ = {sigma:g3})", hint);
        }
        // Tweedie's step x + σ² s(x, σ) is the denoiser's output itself.
        x = net.Denoise(x, net.Conditioning(last, n, device));
        frames.Add(x.Narrow(0, 0, keep).ToArray());
        var samples = x.Reshape(n, 1, 8, 8).To(Device.Cpu);
        NonFinite.Check(samples.ToArray(), "annealed Langevin samples", "after the final denoising step", hint);
        return (samples, frames);
    }
}
