using System.CommandLine;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Models;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seed 001 exercise 2: targeted adversarial perturbations of the digits CNN. For each (test image, target
/// label ≠ true label) pair, dx starts from U(0, 0.05) noise and follows plain SGD on
/// CE(target, f(x + dx)) + c mean|dx| (c = 0.1) until the model says the target or the step budget runs out.
/// All pairs run as one batch; a pair stops moving once it succeeds. Then success against an L∞ budget
/// (the same update with dx clamped), beside targeted FGSM.
/// </summary>
public sealed class AdversarialExperiment : IExperiment
{
    public string Name => "adversarial";
    public string Description => "targeted adversarial perturbations of the digits CNN (SGD + L1 penalty), success vs L∞ budget with FGSM";
    public static readonly Option<int?> Pairs = Define.OptionalInt("--pairs",
        "attack a seeded sample of N (image, target) pairs instead of all of them [default: all; 60 with --quick]", min: 1, quick: 60);
    public static readonly Option<float> Lr = Define.Float("--lr", "X", "SGD learning rate (Keras's default)", 0.01f);
    public static readonly Option<float> C = Define.Float("--c", "X", "weight of the L1 penalty", 0.1f);
    public static readonly Option<int> MaxSteps = Define.Int("--max-steps", "step budget per attack", 5000, min: 1, max: 1_000_000, quick: 100);
    public static readonly Option<string?> CheckpointPath = Define.OptionalText("--checkpoint", "PATH",
        "digits CNN checkpoint to attack (--epochs N trains one instead) [default: results/digits/checkpoints/digits_cnn.ckpt, else train one]");
    public IReadOnlyList<Option> Options => [Pairs, Lr, C, MaxSteps, CheckpointPath];

    public void Run(ExperimentContext ctx)
    {
        var (train, test) = DigitsSource.Split(ctx.Seed);

        // Every (image, target) pair with target != label, or a seeded sample of them; options are checked before any training.
        var pairs = new List<(int Image, int Target)>();
        for (int i = 0; i < test.Count; i++)
            for (int t = 0; t < 10; t++)
                if (t != (int)test.Target(i)[0]) pairs.Add((i, t));
        int requested = ctx.Get(Pairs) ?? pairs.Count;
        if (requested < pairs.Count)
        {
            var order = pairs.ToArray();
            ctx.Rng(5).Shuffle(order.AsSpan());
            pairs = order.Take(requested).ToList();
        }
        float lr = ctx.Get(Lr), c = ctx.Get(C);
        int maxSteps = ctx.Get(MaxSteps);
        var hint = ctx.NonFiniteHint((Lr, "the learning rate"), (C, "the L1 weight"));

        var model = LoadOrTrain(ctx, train);
        model.To(ctx.Device);
        model.Eval();
        ctx.Log($"attacking {pairs.Count} (image, target) pairs");
        var x = Images(test, pairs, ctx.Device);
        var targets = Tensor.FromArray(pairs.Select(p => (float)p.Target).ToArray(), [pairs.Count], ctx.Device);

        var attack = Attack(model, x, targets, lr, c, maxSteps, budget: null, ctx.Rng(6), hint);
        int n = pairs.Count, ok = attack.Steps.Count(s => s >= 0);
        var dx = attack.Perturbation.ToArray();
        double l2 = 0, linf = 0, steps = 0;
        for (int p = 0; p < n; p++)
        {
            if (attack.Steps[p] < 0) continue;
            double s2 = 0, mx = 0;
            for (int j = 0; j < 64; j++) { double v = dx[p * 64 + j]; s2 += v * v; mx = Math.Max(mx, Math.Abs(v)); }
            l2 += Math.Sqrt(s2); linf += mx; steps += attack.Steps[p];
        }
        ctx.Metric("pairs", n);
        ctx.Metric("success_rate", (double)ok / n);
        ctx.Metric("mean_l2", ok == 0 ? double.NaN : l2 / ok);
        ctx.Metric("mean_linf", ok == 0 ? double.NaN : linf / ok);
        ctx.Metric("mean_steps", ok == 0 ? double.NaN : steps / ok);
        ctx.Log($"success {ok}/{n} = {(double)ok / n:P1}; successful perturbations: mean L2 {l2 / Math.Max(1, ok):0.000}, " +
                $"mean L∞ {linf / Math.Max(1, ok):0.000}, mean steps {steps / Math.Max(1, ok):0.0}");

        // Success against an L∞ budget on a seeded subset: the seed's update with dx clamped, and targeted FGSM.
        int curvePairs = Math.Min(n, ctx.Quick ? 30 : 300);
        var subset = Enumerable.Range(0, curvePairs).ToArray();
        var xs = x.IndexSelect(0, Tensor.FromArray(subset.Select(i => (float)i).ToArray(), [curvePairs], ctx.Device));
        var ts = targets.Narrow(0, 0, curvePairs);
        float[] budgets = [0.02f, 0.05f, 0.1f, 0.15f, 0.2f, 0.3f, 0.4f, 0.5f];
        var sgdCurve = new List<double>();
        var fgsmCurve = new List<double>();
        foreach (var eps in budgets)
        {
            var clamped = Attack(model, xs, ts, lr, c, ctx.Quick ? 50 : BudgetSteps, eps, ctx.Rng(7), hint);
            sgdCurve.Add(clamped.Steps.Count(s => s >= 0) / (double)curvePairs);
            fgsmCurve.Add(Fgsm(model, xs, ts, eps));
        }
        ctx.Metric("budget_linf", budgets);
        ctx.Metric("budget_success_sgd", sgdCurve);
        ctx.Metric("budget_success_fgsm", fgsmCurve);
        ctx.Log("L∞ budget: " + string.Join(", ", budgets.Select((b, i) => $"{b}: SGD {sgdCurve[i]:P0} / FGSM {fgsmCurve[i]:P0}")));
        ctx.WriteCsv("budget_curve.csv", ["linf_budget", "success_sgd_l1", "success_fgsm"],
            budgets.Select((b, i) => (IReadOnlyList<double>)[b, sgdCurve[i], fgsmCurve[i]]));

        AdversarialFigures.Draw(ctx, model, test, pairs, x, attack, budgets, sgdCurve, fgsmCurve);
    }

    /// <summary>Step budget of each clamped attack on the L∞ curve (unclamped attacks succeed in about 20).</summary>
    private const int BudgetSteps = 500;

    public sealed record AttackResult(Tensor Perturbation, int[] Steps, int[] FinalPrediction);

    /// <summary>
    /// The batched attack. The loss is the sum over pairs of CE + c·mean|dx|, so each pair's gradient is
    /// exactly its own. Pairs that fool the model stop: the batch is compacted to the pairs still running,
    /// so the long tail of hard pairs does not pay for the many that succeed in a few steps. A perturbation that turns
    /// NaN or infinite stops the attack (<see cref="NonFiniteException"/>, with <paramref name="hint"/>); it is checked
    /// where the loop reads it back anyway, when pairs finish and at the end.
    /// </summary>
    public static AttackResult Attack(DigitsCnn model, Tensor x, Tensor targets, float lr, float c, int maxSteps, float? budget, Generator g,
        string? hint = null)
    {
        int n = x.Shape[0], d = x.Numel / n;
        var device = x.Device;
        var dxHost = Tensor.Rand(g, x.ShapeArray(), 0, 0.05f).ToArray();
        var targetHost = targets.ToArray();
        var steps = Enumerable.Repeat(-1, n).ToArray();
        int[] rows = Enumerable.Range(0, n).ToArray();   // the pairs in the current batch, in order
        Tensor xa = x, ta = targets, dx = Tensor.FromArray(dxHost, x.ShapeArray(), device).RequireGrad();
        for (int step = 0; step <= maxSteps && rows.Length > 0; step++)
        {
            var logits = model.Logits(xa + dx);
            var predicted = logits.Detach().ArgMax(1).ToArray();
            var done = new bool[rows.Length];
            int finished = 0;
            for (int r = 0; r < rows.Length; r++)
                if (predicted[r] == targetHost[rows[r]]) { steps[rows[r]] = step; done[r] = true; finished++; }
            if (finished > 0)
            {
                // Keep the perturbations found, then carry on with the pairs still running.
                var current = dx.Detach().ToArray();
                NonFinite.Check(current, "the perturbation", $"by attack step {step}", hint);
                for (int r = 0; r < rows.Length; r++) current.AsSpan(r * d, d).CopyTo(dxHost.AsSpan(rows[r] * d, d));
                rows = rows.Where((_, r) => !done[r]).ToArray();
                if (rows.Length == 0) break;
                var index = Tensor.FromArray(rows.Select(i => (float)i).ToArray(), [rows.Length], device);
                xa = x.IndexSelect(0, index);
                ta = targets.IndexSelect(0, index);
                var slice = new float[rows.Length * d];
                for (int r = 0; r < rows.Length; r++) dxHost.AsSpan(rows[r] * d, d).CopyTo(slice.AsSpan(r * d, d));
                dx = Tensor.FromArray(slice, [rows.Length, .. x.Shape[1..]], device).RequireGrad();
                logits = model.Logits(xa + dx);
            }
            if (step == maxSteps) break;
            // From the logits: the target's probability starts far below the clip, where its gradient would be zero.
            var perPair = Losses.SparseCategoricalCrossEntropy(logits, ta, Reduction.None, fromLogits: true)
                + dx.Abs().Flatten(1).Mean(1) * c;
            var grad = Autograd.Grad(perPair.Sum(), dx)!;
            using (new NoGrad())
            {
                dx.AddInPlace(grad, -lr);
                if (budget is float eps) dx.CopyFrom(dx.Clamp(-eps, eps));
            }
        }
        if (rows.Length > 0)
        {
            var current = dx.Detach().ToArray();
            NonFinite.Check(current, "the perturbation", $"by the end of the attack ({maxSteps} steps)", hint);
            for (int r = 0; r < rows.Length; r++) current.AsSpan(r * d, d).CopyTo(dxHost.AsSpan(rows[r] * d, d));
        }
        using var _ = new NoGrad();
        var perturbation = Tensor.FromArray(dxHost, x.ShapeArray(), device);
        var final = model.Call(x + perturbation).ArgMax(1).ToArray().Select(v => (int)v).ToArray();
        return new AttackResult(perturbation, steps, final);
    }

    /// <summary>Targeted FGSM: one step x - eps sign(∇x CE(target, f(x))); the fraction that lands on the target.</summary>
    public static double Fgsm(DigitsCnn model, Tensor x, Tensor targets, float eps)
    {
        var xi = x.Detach().RequireGrad();
        var loss = Losses.SparseCategoricalCrossEntropy(model.Logits(xi), targets, Reduction.Sum, fromLogits: true);
        var grad = Autograd.Grad(loss, xi)!;
        using var _ = new NoGrad();
        var adv = x - grad.Sign() * eps;
        return model.Call(adv).ArgMax(1).Eq(targets).Mean().Item();
    }

    private static Tensor Images(Dataset test, List<(int Image, int Target)> pairs, Device device)
    {
        var data = new float[pairs.Count * 64];
        for (int p = 0; p < pairs.Count; p++) test.Sample(pairs[p].Image).CopyTo(data.AsSpan(p * 64, 64));
        return Tensor.FromArray(data, [pairs.Count, 1, 8, 8], device);
    }

    /// <summary>
    /// The CNN to attack: --checkpoint's; else, unless --epochs asks for training or in quick mode, the digits
    /// experiment's from beside --out; else one trained with the digits recipe for --epochs (10, or 1 in quick mode).
    /// </summary>
    private static DigitsCnn LoadOrTrain(ExperimentContext ctx, Dataset train)
    {
        var model = new DigitsCnn(ctx.Rng(1));
        var given = ctx.Get(CheckpointPath);
        bool epochsGiven = ctx.Given(CommonOptions.Epochs);
        if (given is not null && epochsGiven)
            throw new UsageException("adversarial: --epochs trains the digits CNN and --checkpoint loads one; give one or the other.");
        int epochs = ctx.Epochs(10);
        var path = given ?? Path.Combine(Path.GetDirectoryName(ctx.FinalDir)!, "digits", "checkpoints", "digits_cnn.ckpt");
        if (given is not null || (File.Exists(path) && !ctx.Quick && !epochsGiven))
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"adversarial: checkpoint '{path}' not found.");
            Checkpoint.Load(path, model);
            ctx.Log($"attacking the digits CNN from {path}");
            return model;
        }
        ctx.Log($"training the digits CNN for {epochs} epoch(s) (the digits recipe){(epochsGiven ? "" : ": no digits checkpoint found")}");
        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        trainer.Fit(train, epochs, 10, generator: ctx.Rng(2));
        ctx.Metric("cnn_epochs", epochs);
        return model;
    }
}
