using System.Text.Json;
using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Tests;

/// <summary>
/// GenLab (float32) against PyTorch's float64 answers kept in Fixtures/pytorch.json (written by
/// bench/pytorch/make_fixtures.py; torch is not needed here). Each op case checks the forward output, the gradient of
/// sum(y * v) and, where recorded, the gradient of sum(grad * u) taken through a createGraph backward; each optimizer
/// case checks the parameters after every one of five steps.
/// </summary>
public class PyTorchFixtureTests
{
    private static readonly Lazy<Dictionary<string, JsonElement>> All = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());
    });

    public static TheoryData<string> OpCases() => Names(optimizer: false);
    public static TheoryData<string> OptimizerCases() => Names(optimizer: true);

    private static TheoryData<string> Names(bool optimizer)
    {
        var data = new TheoryData<string>();
        foreach (var (name, c) in All.Value)
            if (c.GetProperty("op").GetString()!.StartsWith("optim_") == optimizer) data.Add(name);
        return data;
    }

    [Fact]
    public void FixtureCoversEveryOpFamily()
    {
        var ops = All.Value.Values.Select(c => c.GetProperty("op").GetString()).ToHashSet();
        foreach (var op in new[] { "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
                     "binary_cross_entropy_with_logits", "softplus", "mean", "relu", "abs", "clamp", "maximum", "minimum", "amax",
                     "optim_sgd", "optim_adam", "optim_adamw", "optim_rmsprop" })
            Assert.Contains(op, ops);
    }

    [Theory]
    [MemberData(nameof(OpCases))]
    public void OpMatchesPyTorch(string name)
    {
        var c = All.Value[name];
        var op = c.GetProperty("op").GetString()!;
        var options = c.GetProperty("options");
        var inputs = c.GetProperty("inputs").EnumerateObject().ToDictionary(p => p.Name, p => ToTensor(p.Value));
        var gradNames = c.GetProperty("grad_inputs").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var leaves = gradNames.Select(n => inputs[n].RequireGrad()).ToArray();
        var tol = ToleranceFor(name);

        var y = Apply(op, options, inputs);
        Compare(name, "y", c.GetProperty("y"), y, tol);

        bool second = c.TryGetProperty("grad2", out var grad2);
        var v = ToTensor(c.GetProperty("v"));
        var grads = Autograd.Grad([(y * v).Sum()], leaves, createGraph: second, materializeUnused: true);
        var expectedGrads = c.GetProperty("grads");
        for (int i = 0; i < gradNames.Length; i++)
            Compare(name, $"grad {gradNames[i]}", ExpectedGrad(c, Read(expectedGrads.GetProperty(gradNames[i])), inputs, v), grads[i]!, tol);

        if (second)
        {
            var u = c.GetProperty("u");
            Tensor? s = null;
            for (int i = 0; i < gradNames.Length; i++)
            {
                var term = (grads[i]! * ToTensor(u.GetProperty(gradNames[i]))).Sum();
                s = s is null ? term : s + term;
            }
            var grads2 = s!.RequiresGrad
                ? Autograd.Grad([s], leaves, materializeUnused: true)
                : leaves.Select(l => (Tensor?)Tensor.ZerosLike(l)).ToArray();
            for (int i = 0; i < gradNames.Length; i++)
                Compare(name, $"second-order grad {gradNames[i]}", grad2.GetProperty(gradNames[i]), grads2[i]!, Default);
        }

        if (c.TryGetProperty("extra", out var extra))
            foreach (var e in extra.EnumerateObject())
                Compare(name, e.Name, e.Value, inputs[e.Name], tol);
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void OptimizerMatchesPyTorch(string name)
    {
        var c = All.Value[name];
        var o = c.GetProperty("options");
        var ps = c.GetProperty("params").EnumerateArray().Select(p => ToTensor(p).RequireGrad()).ToArray();
        float lr = Opt(o, "lr", 0f), wd = Opt(o, "weight_decay", 0f);
        float beta1 = 0.9f, beta2 = 0.999f;
        if (o.TryGetProperty("betas", out var betas)) (beta1, beta2) = (betas[0].GetSingle(), betas[1].GetSingle());
        bool amsgrad = Opt(o, "amsgrad", false);
        Optimizer opt = c.GetProperty("op").GetString() switch
        {
            "optim_sgd" => new Sgd(ps, lr, Opt(o, "momentum", 0f), Opt(o, "nesterov", false), wd, Opt(o, "dampening", 0f)),
            "optim_adam" => new Adam(ps, lr, beta1, beta2, Opt(o, "eps", 1e-8f), wd, pytorchEpsilon: true, amsgrad),
            "optim_adamw" => new AdamW(ps, lr, beta1, beta2, Opt(o, "eps", 1e-8f), Opt(o, "weight_decay", 0.01f), amsgrad),
            "optim_rmsprop" => new RmsProp(ps, lr, Opt(o, "alpha", 0.99f), Opt(o, "eps", 1e-8f), Opt(o, "momentum", 0f), wd,
                Opt(o, "centered", false)),
            var op => throw new InvalidOperationException($"{name}: no optimizer for {op}."),
        };
        var steps = c.GetProperty("step_grads").EnumerateArray().ToArray();
        var trajectory = c.GetProperty("trajectory").EnumerateArray().ToArray();
        for (int step = 0; step < steps.Length; step++)
        {
            var grads = steps[step].EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++) ps[i].Grad = ToTensor(grads[i]);
            opt.Step();
            var expected = trajectory[step].EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++) Compare(name, $"parameter {i} after step {step + 1}", expected[i], ps[i], new Tol(1e-5, 1e-5));
        }
    }

    private static Tensor Apply(string op, JsonElement o, Dictionary<string, Tensor> t)
    {
        Tensor? Maybe(string key) => t.GetValueOrDefault(key);
        var reduction = o.TryGetProperty("reduction", out var r) ? r.GetString() switch
        {
            "none" => Reduction.None,
            "mean" => Reduction.Mean,
            "sum" => Reduction.Sum,
            var s => throw new InvalidOperationException($"reduction {s}"),
        } : Reduction.Mean;
        return op switch
        {
            "conv2d" => Tensor.Conv2d(t["x"], t["weight"], Maybe("bias"), Pair(o, "stride"),
                o.GetProperty("padding").ValueKind == JsonValueKind.String ? Padding.Parse(o.GetProperty("padding").GetString()!) : Pair(o, "padding"),
                Pair(o, "dilation"), o.GetProperty("groups").GetInt32()),
            "conv_transpose2d" => Tensor.ConvTranspose2d(t["x"], t["weight"], Maybe("bias"), Pair(o, "stride"), Pair(o, "padding"),
                Pair(o, "output_padding"), o.GetProperty("groups").GetInt32(), Pair(o, "dilation")),
            "max_pool2d" => t["x"].MaxPool2d(Pair(o, "kernel"), PairOrNull(o, "stride"), Pair(o, "padding"), Pair(o, "dilation"),
                o.GetProperty("ceil_mode").GetBoolean()),
            "avg_pool2d" => t["x"].AvgPool2d(Pair(o, "kernel"), PairOrNull(o, "stride"), Pair(o, "padding"),
                o.GetProperty("ceil_mode").GetBoolean(), o.GetProperty("count_include_pad").GetBoolean()),
            "batch_norm" => Tensor.BatchNorm(t["x"], t["running_mean"], t["running_var"], Maybe("weight"), Maybe("bias"),
                o.GetProperty("training").GetBoolean(), o.GetProperty("momentum").GetSingle(), o.GetProperty("eps").GetSingle()),
            "binary_cross_entropy" => Losses.BinaryCrossEntropy(t["p"], t["t"], reduction, Maybe("weight")),
            "binary_cross_entropy_with_logits" => Losses.BinaryCrossEntropyWithLogits(t["x"], t["t"], reduction, Maybe("weight")),
            "softplus" => t["x"].Softplus(),
            "mean" => t["x"].Mean(),
            "relu" => t["x"].Relu(),
            "leaky_relu" => t["x"].LeakyRelu(o.GetProperty("negative_slope").GetSingle()),
            "abs" => t["x"].Abs(),
            "clamp" => t["x"].Clamp(o.GetProperty("min").GetSingle(), o.GetProperty("max").GetSingle()),
            "maximum" => Tensor.Maximum(t["a"], t["b"]),
            "minimum" => Tensor.Minimum(t["a"], t["b"]),
            "amax" => t["x"].Max(o.GetProperty("dim").GetInt32()),
            "amin" => t["x"].Min(o.GetProperty("dim").GetInt32()),
            "max_all" => t["x"].Max(),
            _ => throw new InvalidOperationException($"No GenLab op for fixture op {op}."),
        };
    }

    /// <summary>Tolerances: |expected - actual| ≤ atol · max(1, max |expected|) + rtol · |expected|, float32 against float64;
    /// the case's for the output and the first-order gradients, the default for the second order.</summary>
    private readonly record struct Tol(double Rtol, double Atol);

    private static Tol ToleranceFor(string name) => name switch
    {
        // The point of these is relative accuracy where the values are tiny (softplus(-90) = 8e-40, a float32 subnormal
        // with about 6 significant digits left). Not for the second order: sigmoid'(19.5) = 3e-9 is 1 - 1 in float32.
        "softplus_far" => new Tol(2e-5, 1e-44),
        _ => Default,
    };

    private static readonly Tol Default = new(1e-4, 1e-4);

    /// <summary>PyTorch's first-order gradient, except where GenLab documents a different one (see each branch).</summary>
    private static (int[] Shape, double[] Data) ExpectedGrad(JsonElement c, (int[] Shape, double[] Data) torch, Dictionary<string, Tensor> inputs,
        Tensor v)
    {
        var data = (double[])torch.Data.Clone();
        var vs = v.ToArray();
        switch (c.GetProperty("op").GetString())
        {
            case "amax":
            {
                // Tensor.Max(axis) documents PyTorch's max()-over-all rule at NaN: a row whose maximum is NaN shares its
                // gradient among its NaNs. torch.amax instead gives the whole row NaN (its mask x == max holds nowhere,
                // and it divides by the mask's count, 0).
                var x = inputs["x"].ToArray();
                int cols = inputs["x"].Shape[1];
                for (int r = 0; r < x.Length / cols; r++)
                {
                    var row = x.AsSpan(r * cols, cols);
                    int nans = 0;
                    foreach (var e in row) if (float.IsNaN(e)) nans++;
                    if (nans == 0) continue;
                    for (int j = 0; j < cols; j++) data[r * cols + j] = float.IsNaN(row[j]) ? vs[r] / nans : 0;
                }
                break;
            }
            case "binary_cross_entropy" when c.GetProperty("options").GetProperty("reduction").GetString() == "none":
            {
                // Losses.BinaryCrossEntropy documents its gradient as the derivative of the clamped form (0 through a
                // log clamped at -100), where PyTorch's backward divides by max(p (1 - p), 1e-12): the two differ
                // exactly where that bound is active, p (1 - p) < 1e-12.
                var p = inputs["p"].ToArray();
                var t = inputs["t"].ToArray();
                var w = inputs.TryGetValue("weight", out var wt) ? wt.Expand(inputs["p"].Shape).ToArray() : null;
                for (int i = 0; i < p.Length; i++)
                {
                    if ((double)p[i] * (1 - p[i]) >= 1e-12) continue;
                    double dLogP = ClampedLogSlope(p[i]), dLog1mP = ClampedLogSlope(1f - p[i]);
                    data[i] = (w?[i] ?? 1) * vs[i] * (-t[i] * dLogP + (1 - t[i]) * dLog1mP);
                }
                break;
            }
        }
        return (torch.Shape, data);
    }

    /// <summary>The slope of max(log q, -100) at a float32 q as GenLab documents it: 1 / q, that at float's smallest
    /// normal for a subnormal q (1 / q would overflow), 0 where the clamp (or q ≤ 0) holds.</summary>
    private static double ClampedLogSlope(float q) => q <= 0 || MathF.Log(q) <= -100f ? 0 : 1.0 / Math.Max(q, 1.17549435e-38);

    private static void Compare(string name, string what, JsonElement expected, Tensor actual, Tol tol)
        => Compare(name, what, Read(expected), actual, tol);

    /// <summary>Element-wise within <paramref name="tol"/>; NaN and infinities must match exactly.</summary>
    private static void Compare(string name, string what, (int[] Shape, double[] Data) expected, Tensor actual, Tol tol)
    {
        var (shape, e) = expected;
        Assert.True(shape.SequenceEqual(actual.ShapeArray()),
            $"{name}, {what}: shape {ShapeUtil.Format(actual.Shape)}, PyTorch's is {ShapeUtil.Format(shape)}.");
        var a = actual.ToArray();
        double scale = Math.Max(1, e.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());
        double worst = 0; int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            double ei = e[i], ai = a[i];
            if (double.IsNaN(ei) || double.IsNaN(ai) || double.IsInfinity(ei) || double.IsInfinity(ai))
            {
                if (ei.Equals(ai) || (double.IsNaN(ei) && double.IsNaN(ai))) continue;
                (worst, at) = (double.PositiveInfinity, i);
                break;
            }
            double excess = Math.Abs(ei - ai) / (tol.Atol * scale + tol.Rtol * Math.Abs(ei));
            if (excess > worst) (worst, at) = (excess, i);
        }
        Assert.True(worst <= 1, $"{name}, {what}: worst element {at} {Index(shape, at)}: PyTorch {(at >= 0 ? e[at] : 0):R}, GenLab " +
            $"{(at >= 0 ? a[at] : 0):R} ({worst:G3} times the tolerance rtol {tol.Rtol:G2}, atol {tol.Atol:G2} x {scale:G3}).");
    }

    private static string Index(int[] shape, int flat)
    {
        if (flat < 0) return "";
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = flat % shape[d]; flat /= shape[d]; }
        return "[" + string.Join(", ", idx) + "]";
    }

    private static (int[] Shape, double[] Data) Read(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var data = t.GetProperty("data").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                var s => throw new FormatException($"fixture value {s}"),
            }
            : e.GetDouble()).ToArray();
        return (shape, data);
    }

    private static Tensor ToTensor(JsonElement t)
    {
        var (shape, data) = Read(t);
        return Tensor.FromArray(data.Select(d => (float)d).ToArray(), shape);
    }

    private static (int, int) Pair(JsonElement o, string key)
    {
        var p = o.GetProperty(key);
        return (p[0].GetInt32(), p[1].GetInt32());
    }

    private static Size2? PairOrNull(JsonElement o, string key)
        => o.GetProperty(key).ValueKind == JsonValueKind.Null ? null : (Size2)Pair(o, key);

    private static float Opt(JsonElement o, string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
    private static bool Opt(JsonElement o, string key, bool fallback) => o.TryGetProperty(key, out var v) ? v.GetBoolean() : fallback;
}
