using System.CommandLine;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Experiments.PyTorch;
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
    public static readonly Option<int> Levels = Define.Int("--levels", "noise levels on the geometric ladder", 20, min: 1, max: 1000, quick: 5);
    public static readonly Option<float?> SigmaMax = Define.OptionalFloat("--sigma-max", "X", "largest noise level [default: the largest distance between two training digits]", min: 1e-4f);
    public static readonly Option<float> SigmaMin = Define.Float("--sigma-min", "X", "smallest noise level (at most --sigma-max)", 0.01f, min: 1e-5f);
    public static readonly Option<int> StepsPerLevel = Define.Int("--steps-per-level", "Langevin steps at each level", 20, min: 1, max: 10_000, quick: 1);
    public static readonly Option<float> StepEps = Define.Float("--step-eps", "X", "ε of the step size ε σ²/σ_min²", 1e-5f);
    public static readonly Option<string> Net = Define.Choice("--net", "score network: 3x3 convolutions with a global code of the image, or an MLP on the 64 pixels", ["conv", "mlp"]);
    public static readonly Option<int?> Hidden = Define.OptionalInt("--hidden",
        $"width of the score network (channels of the conv net, up to {MaxConvChannels}; units of the MLP) [default: {ConvChannels} (conv), {MlpUnits} (mlp)]", min: 1, max: 16384);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 64, min: 1);
    public static readonly Option<float> Lr = Define.Float("--lr", "X", "Adam learning rate", 1e-3f);
    public static readonly Option<string> LrSchedule = Define.Choice("--lr-schedule", "learning rate over the epochs", ["cosine", "constant"]);
    public static readonly Option<float> Ema = Define.Float("--ema", "X", "decay of the weight average used for sampling (0: none)", 0.999f, max: 0.999999f);
    public static readonly Option<string?> CheckpointPath = Define.OptionalText("--checkpoint", "PATH", "sample from a trained network (a score_digits.ckpt) instead of training one");
    public IReadOnlyList<Option> Options =>
        [Levels, SigmaMax, SigmaMin, StepsPerLevel, StepEps, Net, Hidden, BatchSize, Lr, LrSchedule, Ema, CheckpointPath, DigitsSource.TrainOn,
         PyTorchComparison.ComparePyTorch];

    private const int ConvChannels = 32, MaxConvChannels = 1024, MlpUnits = 256;

    /// <summary>Options that shape training, which sampling from --checkpoint skips.</summary>
    private static readonly Option[] TrainingOptions = [CommonOptions.Epochs, BatchSize, Lr, LrSchedule, Ema];

    public void Run(ExperimentContext ctx)
    {
        var checkpoint = ctx.Get(CheckpointPath);
        if (checkpoint is not null && TrainingOptions.FirstOrDefault(ctx.Given) is { } unused)
            throw new UsageException($"score-digits: {unused.Name} shapes training, which --checkpoint skips; give one or the other.");
        PyTorchComparison.RefuseWith(ctx, CheckpointPath);

        // Data, and the top of the noise ladder: the largest distance between two training digits.
        var (train, heldOut) = DigitsSource.ForGenerativeModel(ctx);
        double largest = LargestDistance(train);
        ctx.Metric("largest_distance", largest);
        float sigmaMax = ctx.Get(SigmaMax) ?? (float)largest;
        float sigmaMin = ctx.Get(SigmaMin);
        if (sigmaMin > sigmaMax)
            throw new UsageException($"score-digits: '--sigma-min {sigmaMin}' must be at most the largest noise level {sigmaMax} (--sigma-max).");
        int levels = ctx.Get(Levels);
        var sigmas = Ladder(sigmaMax, sigmaMin, levels);
        ctx.Log($"largest distance between training digits {largest:0.000}; {levels} noise levels from {sigmaMax:0.000} to {sigmaMin}");
        ctx.Metric("sigmas", sigmas);

        int steps = ctx.Get(StepsPerLevel);
        float eps = ctx.Get(StepEps);

        // Model and training.
        bool conv = ctx.Get(Net) == "conv";
        int hidden = ctx.Get(Hidden) ?? (conv ? ConvChannels : MlpUnits);
        if (conv && hidden > MaxConvChannels)
            throw new UsageException($"score-digits: '--hidden {hidden}' must be between 1 and {MaxConvChannels} for the conv net.");
        NoiseConditionalScoreNet net = conv
            ? new ScoreConvNet(channels: hidden, generator: ctx.Rng(1))
            : new ScoreMlpNet(hidden: hidden, generator: ctx.Rng(1));
        net.To(ctx.Device);
        ctx.Log(net.Summary(1, 64));
        float decay = ctx.Get(Ema);
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
            ctx.NonFiniteHint((StepEps, "the step size ε"), (SigmaMax, "the largest noise level")));
        ctx.Metric("sampling_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("steps_per_level", steps);
        ctx.Metric("step_eps", eps);
        GeneratedDigits.Write(ctx, samples);
        var judge = GeneratedDigits.Judge(ctx, heldOut);
        judge(samples, "");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        PyTorchComparison.Digits(ctx, "score_digits_recipe.py", train, history.Epochs.Count, ctx.Get(BatchSize),
            ctx.Metrics.TryGetValue("train_seconds", out var s) ? (double)s : 0, judge,
            "--sigmas", string.Join(',', sigmas.Select(PyTorchComparison.Arg)), "--steps-per-level", steps.ToString(inv),
            "--step-eps", PyTorchComparison.Arg(eps), "--net", conv ? "conv" : "mlp", "--hidden", hidden.ToString(inv),
            "--lr", PyTorchComparison.Arg(ctx.Get(Lr)), "--lr-schedule", ctx.Get(LrSchedule), "--ema", PyTorchComparison.Arg(decay));
        ScoreDigitsFigures.Draw(ctx, samples, frames, sigmas, history);
    }

    private static History Train(ExperimentContext ctx, NoiseConditionalScoreNet net, Dataset train, float[] sigmas, float decay)
    {
        var average = decay > 0 ? new WeightAverage(net, decay) : null;
        var trainer = new DenoisingTrainer(net, sigmas, ctx.Get(Lr), ctx.Rng(4), average)
        {
            Output = ctx.Output,
            NonFiniteHint = ctx.NonFiniteHint((Lr, "the learning rate"), (SigmaMax, "the largest noise level")),
        };
        int epochs = ctx.Epochs(300);
        var clock = Stopwatch.StartNew();
        int every = Math.Max(1, epochs / 15);
        var progress = new LambdaCallback((epoch, logs) =>
        {
            if ((epoch + 1) % every == 0 || epoch + 1 == epochs)
                ctx.Log($"epoch {epoch + 1}/{epochs}: loss {logs["loss"]:0.00000} ({clock.Elapsed.TotalSeconds:0}s)");
        });
        var history = trainer.Fit(train, epochs, ctx.Get(BatchSize),
            callbacks: [.. ctx.StandardCallbacks(), progress, .. Schedule(ctx, epochs)], generator: ctx.Rng(2), verbose: 0);
        ctx.Metric("train_seconds", clock.Elapsed.TotalSeconds);
        ctx.Metric("final_loss", history["loss"][^1]);
        ctx.WriteHistory(history);
        average?.CopyToModel();
        return history;
    }

    /// <summary>Cosine decay to a tenth of the rate: the last epochs refine the weights the average is taken of.</summary>
    private static Callback[] Schedule(ExperimentContext ctx, int epochs) =>
        ctx.Get(LrSchedule) == "cosine" ? [new LearningRateScheduler(new CosineDecay(epochs, ctx.Get(Lr) / 10))] : [];

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
