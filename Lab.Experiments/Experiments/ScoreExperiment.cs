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
/// Seed 001 exercise 9: score matching on the toy mixture and Langevin sampling. The score model s(x) is
/// trained on Hyvärinen's loss mean(|s(x)|² + 2 tr(ds/dx)), the trace taken exactly through higher-order
/// autodiff (or, with `--loss sliced`, sliced score matching); Adam(1e-2), batch 16, 20 epochs. Then 5000
/// points from N(0, std(data)²) take 50 steps x ← x + eps s(x) + sqrt(2 eps T) ξ (eps = 0.01, T = 1), each
/// step a frame of the GIF.
/// </summary>
public sealed class ScoreExperiment : IExperiment
{
    public string Name => "score";
    public string Description => "score matching on the toy mixture (exact Jacobian trace, or sliced) and Langevin sampling, as a GIF";
    public static readonly Option<string> Loss = Define.Choice("--loss", "Hyvärinen's loss with the exact trace, or sliced score matching", ["exact", "sliced"]);
    public static readonly Option<float> Lr = Define.Float("--lr", "X", "Adam learning rate", 0.01f);
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 16, min: 1);
    public static readonly Option<int> Samples = Define.Int("--samples", "Langevin chains", 5000, min: 1, max: 1_000_000, quick: 1000);
    public static readonly Option<int> Steps = Define.Int("--steps", "Langevin steps (one GIF frame each)", 50, min: 1, max: 10_000, quick: 10);
    public static readonly Option<float> Eps = Define.Float("--eps", "X", "Langevin step size", 0.01f);
    public static readonly Option<float> Temperature = Define.Float("--temperature", "T", "Langevin temperature", 1f);
    public IReadOnlyList<Option> Options => [Loss, Lr, BatchSize, Samples, Steps, Eps, Temperature, PyTorchComparison.ComparePyTorch];

    public void Run(ExperimentContext ctx)
    {
        // Data: the toy mixture, 3000 points (the labels only colour the figures).
        var toy = new ToyData(seed: 3);
        var data = toy.Sample(ctx.Quick ? 500 : 3000);
        ctx.WriteCsv("data.csv", ["x0", "x1", "label"],
            Enumerable.Range(0, data.Count).Select(i => (IReadOnlyList<double>)[Math.Round(data.Sample(i)[0], 5), Math.Round(data.Sample(i)[1], 5), data.Target(i)[0]]));

        int n = ctx.Get(Samples);
        int steps = ctx.Get(Steps);
        float eps = ctx.Get(Eps), temperature = ctx.Get(Temperature);

        // Model and training.
        var model = new ScoreMlp(ctx.Rng(1));
        model.To(ctx.Device);
        ctx.Log(model.Summary(1, 2));
        bool sliced = ctx.Get(Loss) == "sliced";
        float lr = ctx.Get(Lr);
        int epochs = ctx.Epochs(20), batch = ctx.Get(BatchSize);
        var trainer = new ScoreTrainer(model, lr, sliced ? ctx.Rng(4) : null)
        {
            Output = ctx.Output,
            NonFiniteHint = ctx.NonFiniteHint((Lr, "the learning rate"), (BatchSize, "the batch size")),
        };
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(data, epochs, batch, callbacks: ctx.StandardCallbacks(), generator: ctx.Rng(2));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        ctx.Metric("train_seconds", trainSeconds);
        ctx.Metric("loss_kind", sliced ? "sliced" : "exact");
        ctx.Metric("final_loss", history["loss"][^1]);
        ctx.WriteHistory(history);
        Checkpoint.Save(ctx.PathFor("checkpoints/score.ckpt"), model);

        // Langevin sampling from N(0, std(data)²), every step kept as a frame.
        var frames = Langevin(model, n, Std(data.Features), steps, eps, temperature, ctx.Rng(5), ctx.Device,
            ctx.NonFiniteHint((Eps, "the step size"), (Temperature, "the temperature")));
        var final = frames[^1];
        ctx.WriteCsv("samples.csv", ["x0", "x1"], Enumerable.Range(0, n).Select(i => (IReadOnlyList<double>)[Math.Round(final[2 * i], 5), Math.Round(final[2 * i + 1], 5)]));

        // How well the samples found the modes.
        var modes = ModeCoverage(final, toy.Means, 3 * toy.Std);
        ctx.Metric("modes", toy.Classes);
        ctx.Metric("modes_covered", modes.Covered);
        ctx.Metric("within_3sigma", modes.Within);
        ctx.Metric("mode_fractions", modes.Fractions);
        ctx.Log($"Langevin samples: {modes.Covered}/{toy.Classes} modes covered (>= 2% of samples within 3σ), " +
                $"{modes.Within:P1} of samples within 3σ of a mode; per mode {string.Join(", ", modes.Fractions.Select(f => f.ToString("P1")))}");
        PyTorchComparison.Points(ctx, "score_recipe.py", data, epochs, batch, trainSeconds, points => ModeCoverage(points, toy.Means, 3 * toy.Std),
            "--lr", PyTorchComparison.Arg(lr), "--loss", sliced ? "sliced" : "exact", "--samples", n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--eps", PyTorchComparison.Arg(eps),
            "--temperature", PyTorchComparison.Arg(temperature));
        ScoreFigures.Draw(ctx, data, frames, history);
    }

    /// <summary>numpy's np.std(X) of the seed: one standard deviation over every coordinate.</summary>
    public static float Std(ReadOnlySpan<float> values)
    {
        double mean = 0, sq = 0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        foreach (var v in values) sq += (v - mean) * (v - mean);
        return (float)Math.Sqrt(sq / values.Length);
    }

    /// <summary>
    /// x ← x + eps s(x) + sqrt(2 eps T) ξ from N(0, std²); returns the positions after every step (n x 2 each).
    /// A step that leaves a position NaN or infinite stops the sampling (<see cref="NonFiniteException"/>, with <paramref name="hint"/>).
    /// </summary>
    public static List<float[]> Langevin(ScoreMlp model, int n, float std, int steps, float eps, float temperature, Generator g, Device device,
        string? hint = null)
    {
        using var _ = new NoGrad();
        model.Eval();
        var x = Tensor.RandN(g, [n, 2], 0, std, device);
        float noise = MathF.Sqrt(2 * eps * temperature);
        var frames = new List<float[]>(steps);
        for (int t = 0; t < steps; t++)
        {
            using (TensorScope.Begin()) x.CopyFrom(x + model.Call(x) * eps + Tensor.RandN(g, [n, 2], 0, noise, device));
            frames.Add(x.ToArray());
            NonFinite.Check(frames[^1], "Langevin samples", $"after step {t + 1} of {steps}", hint);
        }
        return frames;
    }

    public sealed record Coverage(int Covered, double Within, double[] Fractions);

    /// <summary>The fraction of points within <paramref name="radius"/> of each mode; a mode is covered when it holds at least 2%.</summary>
    public static Coverage ModeCoverage(float[] points, float[] means, float radius)
    {
        int n = points.Length / 2, k = means.Length / 2;
        var near = new int[k];
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            float bestD = float.PositiveInfinity;
            for (int c = 0; c < k; c++)
            {
                float dx = points[2 * i] - means[2 * c], dy = points[2 * i + 1] - means[2 * c + 1];
                float d = MathF.Sqrt(dx * dx + dy * dy);
                if (d < bestD) (bestD, best) = (d, c);
            }
            if (bestD <= radius) near[best]++;
        }
        var fractions = near.Select(c => (double)c / n).ToArray();
        return new Coverage(fractions.Count(f => f >= 0.02), fractions.Sum(), fractions);
    }
}
