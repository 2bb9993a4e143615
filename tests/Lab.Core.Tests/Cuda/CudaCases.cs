using Lab.Core.Backends;
using Lab.Core.Cuda;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Cuda;

/// <summary>
/// CUDA checks beyond the op registry: shapes large enough to reach the multi-block and two-pass kernel
/// paths, the accuracy of the kernels' own exp/log/tanh against double precision, training steps against
/// the CPU, the caching allocator, and the errors for mixed devices and bad indices.
/// </summary>
public static class CudaCases
{
    /// <summary>
    /// Looser than the registry's bounds: these results are sums of thousands of float products, and the
    /// CPU kernels add them one after another, which leaves a random-walk error of about sqrt(n) ulp of the
    /// summands' scale (measured on an H100: 4.8e-5 for a 3000-long column sum, 2.0e-4 for a 6272-term
    /// convolution weight gradient, both where the result nearly cancels). cuBLAS and the tree reductions
    /// on the GPU are the more accurate side.
    /// </summary>
    public const double LargeForwardTolerance = 2e-4, LargeGradientTolerance = 1e-3;

    private static Input I(params int[] shape) => new(shape);
    private static Input Pos(params int[] shape) => new(shape, Domain.Positive);
    private static Input Idx(int bound, int n) => new([n], Domain.Index, bound);
    private static OpCase Case(string name, Input[] inputs, Func<Tensor[], Tensor> op, bool diff = true)
        => new(name, inputs, op, _ => throw new NotSupportedException("compared with the CPU, not the reference"), diff);

    /// <summary>Cases for CPU-versus-CUDA comparison only (too large for the double reference's finite differences).</summary>
    public static IEnumerable<OpCase> Large()
    {
        yield return Case("SumRowsLong", [I(3, 100_000)], t => t[0].Sum(1));
        yield return Case("SumAllMillion", [I(1000, 1000)], t => t[0].Sum());
        yield return Case("MaxRowsLong", [I(7, 50_000)], t => t[0].Max(1));
        yield return Case("ArgMaxRowsLong", [I(7, 50_000)], t => t[0].ArgMax(1), diff: false);
        yield return Case("ArgMinRowsLong", [I(5, 70_001)], t => t[0].ArgMin(1), diff: false);
        yield return Case("SumColsLong", [I(5000, 300)], t => t[0].Sum(0));
        yield return Case("MaxColsLong", [I(5000, 300)], t => t[0].Max(0));
        yield return Case("ArgMaxColsLong", [I(5000, 300)], t => t[0].ArgMax(0), diff: false);
        yield return Case("SumMiddle", [I(4, 3000, 40)], t => t[0].Sum(1));
        yield return Case("SumManyShortRows", [I(20_000, 10)], t => t[0].Sum(1));
        yield return Case("MaxManyShortRows", [I(20_000, 10)], t => t[0].Max(1));
        yield return Case("ArgMaxManyShortRows", [I(20_000, 10)], t => t[0].ArgMax(1), diff: false);
        yield return Case("MeanBatchNormAxes", [I(16, 8, 12, 12)], t => t[0].Mean([0, 2, 3], keepDim: true));
        yield return Case("SoftmaxWide", [I(64, 3000)], t => t[0].Softmax(-1));
        yield return Case("LogSoftmaxWide", [I(64, 3000)], t => t[0].LogSoftmax(-1));
        yield return Case("SoftmaxAxis0", [I(300, 64)], t => t[0].Softmax(0));
        yield return Case("LogSoftmaxMiddle", [I(8, 100, 33)], t => t[0].LogSoftmax(1));
        yield return Case("MatMulLarge", [I(256, 512), I(512, 384)], t => Tensor.MatMul(t[0], t[1]));
        yield return Case("MatMulLargeTATB", [I(512, 200), I(300, 512)], t => Tensor.MatMul(t[0], t[1], true, true));
        yield return Case("MatMulBatchedLarge", [I(8, 64, 96), I(8, 96, 32)], t => Tensor.MatMul(t[0], t[1]));
        yield return Case("MatMulBatchedTA", [I(6, 40, 30), I(6, 40, 50)], t => Tensor.MatMul(t[0], t[1], true, false));
        yield return Case("BatchDotAttentionScores", [I(32, 30, 400), I(32, 20, 400)], t => Tensor.BatchDot(t[0].L2Normalize(2), t[1], 2, 2));
        yield return Case("LinearLarge", [I(1000, 784), I(128, 784), I(128)], t => (Tensor.MatMul(t[0], t[1], false, true) + t[2]).Relu());
        yield return Case("Conv2dLarge", [I(8, 16, 28, 28), I(32, 16, 3, 3), I(32)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1));
        yield return Case("Conv2dStride2", [I(4, 8, 17, 15), I(12, 8, 5, 5)], t => Tensor.Conv2d(t[0], t[1], null, 2, 2));
        yield return Case("Conv2dPointwise", [I(4, 32, 14, 14), I(16, 32, 1, 1), I(16)], t => Tensor.Conv2d(t[0], t[1], t[2]));
        yield return Case("ConvTranspose2dLarge", [I(4, 16, 7, 7), I(16, 8, 4, 4), I(8)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 2, 1));
        yield return Case("Conv2dDepthwiseLarge", [I(8, 32, 20, 20), I(32, 1, 3, 3), I(32)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1, groups: 32));
        yield return Case("Conv2dGroupsDilated", [I(4, 16, 19, 17), I(24, 4, 3, 3), I(24)], t => Tensor.Conv2d(t[0], t[1], t[2], (2, 1), (2, 1), dilation: 2, groups: 4));
        yield return Case("Conv2dGroupedPointwise", [I(4, 32, 14, 14), I(16, 8, 1, 1)], t => Tensor.Conv2d(t[0], t[1], groups: 4));
        yield return Case("Conv2dSameEven", [I(4, 8, 15, 16), I(8, 8, 4, 2), I(8)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, Padding.SameSize));
        yield return Case("ConvTranspose2dGroupsDilated", [I(4, 16, 7, 6), I(16, 4, 3, 3), I(16)],
            t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 2, 1, outputPadding: (1, 0), groups: 4, dilation: (1, 2)));
        yield return Case("ConvTranspose2dOutPadPastStride", [I(4, 8, 9, 9), I(8, 8, 3, 3)],
            t => Tensor.ConvTranspose2d(t[0], t[1], null, 1, 0, outputPadding: (2, 1), dilation: (3, 2)));
        yield return Case("MaxPoolLarge", [I(8, 16, 28, 28)], t => t[0].MaxPool2d(2));
        yield return Case("MaxPoolOverlapLarge", [I(4, 8, 27, 27)], t => t[0].MaxPool2d(3, 2, 1));
        yield return Case("AvgPoolLarge", [I(4, 8, 27, 27)], t => t[0].AvgPool2d(3, 2, 1));
        yield return Case("MaxPoolDilatedCeilLarge", [I(4, 8, 27, 26)], t => t[0].MaxPool2d((3, 2), 2, 1, dilation: (2, 3), ceilMode: true));
        yield return Case("AvgPoolExcludePadCeilLarge", [I(4, 8, 27, 26)], t => t[0].AvgPool2d((3, 2), 2, 1, ceilMode: true, countIncludePad: false));
        yield return Case("UnaryChainLarge", [I(1000, 1000)], t => t[0].Tanh() * t[0].Sigmoid() + t[0].Softplus() - t[0].Exp().Affine(0.1f, 0));
        yield return Case("LogPowLarge", [Pos(500, 700)], t => t[0].Log() + t[0].Pow(1.5f) + t[0].Sqrt());
        yield return Case("BroadcastChannel", [I(64, 32, 10, 10), I(1, 32, 1, 1)], t => t[0] * t[1] + t[1]);
        yield return Case("BroadcastOuter", [I(300, 1), I(1, 400)], t => Tensor.Maximum(t[0], t[1]) - t[0] / (t[1].Abs() + 1f));
        yield return Case("WhereLarge", [new Input([500, 300], Domain.Mask), I(500, 300), I(300)], t => Tensor.Where(t[0], t[1], t[2]));
        yield return Case("TransposeLarge", [I(16, 33, 70)], t => t[0].Permute(0, 2, 1));
        yield return Case("Transpose2d", [I(100, 37)], t => t[0].T);
        yield return Case("PermuteGeneral", [I(6, 7, 8, 9)], t => t[0].Permute(3, 1, 0, 2));
        yield return Case("ConcatNarrowLarge", [I(64, 100), I(64, 50)], t => Tensor.Concat([t[0], t[1]], 1).Narrow(1, 30, 100));
        yield return Case("IndexSelectLarge", [I(1000, 64), Idx(1000, 500)], t => t[0].IndexSelect(0, t[1]));
        yield return Case("IndexSelectMiddle", [I(4, 300, 20), Idx(300, 150)], t => t[0].IndexSelect(1, t[1]));
        yield return Case("CrossEntropyLarge", [I(4096, 10), Idx(10, 4096)], t => Losses.CrossEntropy(t[0], t[1]));
        yield return Case("SumOfSquaresLike", [I(777, 333)], t => t[0].Square().Sum());
        // The fused recurrent steps past one block, and whole layers (the weights follow the input's device).
        yield return Case("LstmCellLarge", [I(64, 1024), I(64, 1024), I(64, 256)], t => Tensor.LstmCell(t[0], t[1], t[2]));
        yield return Case("GruCellLarge", [I(64, 768), I(64, 768), I(64, 256)], t => Tensor.GruCell(t[0], t[1], t[2]));
        var lstm = OpRegistry.Twins(() => new Lstm(32, 64, returnSequences: true, generator: new Generator(5)));
        yield return Case("LstmLayerLarge", [I(16, 30, 32)], t => lstm(t[0].Device).Forward(t[0]));
        var gru = OpRegistry.Twins(() => new Bidirectional(new Gru(32, 48, generator: new Generator(6)), MergeMode.Concat));
        var mask = new float[16 * 30];
        for (int i = 0; i < mask.Length; i++) mask[i] = i % 30 < 30 - i / 30 ? 1 : 0;   // sample b keeps 30 - b steps
        yield return Case("BidirectionalGruMaskedLarge", [I(16, 30, 32)], t =>
        {
            return gru(t[0].Device).Forward(t[0], Tensor.FromArray(mask, [16, 30], t[0].Device));
        });
        // Layer norm: rows wider than a block (grid-stride inside the row), many short rows (grid-stride over rows), an offset mean.
        yield return Case("LayerNormWide", [I(64, 3000), I(3000), I(3000)], t => Tensor.LayerNorm(t[0], [3000], t[1], t[2], 1e-3f));
        yield return Case("LayerNormManyRows", [I(20_000, 24)], t => Tensor.LayerNorm(t[0] + 100f, [24]));
        yield return Case("LayerNormSequence", [I(32, 64, 128), I(128), I(128)], t => Tensor.LayerNorm(t[0], [128], t[1], t[2]));
        // The attention layers at a transformer block's size, with masks (Keras's additive -1e9 and MHA's where-and-zero).
        yield return Case("MultiHeadAttentionLarge", [I(8, 64, 128), I(128, 8, 16), I(8, 16), I(128, 8, 16), I(8, 16), I(128, 8, 16), I(8, 16), I(8, 16, 128), I(128)],
            // Kernels at Glorot's scale (1/sqrt(fan-in)): with unit-normal kernels the scores reach ~100 and the softmax
            // is one-hot, where CPU-vs-CUDA rounding in near-tied scores decides which key wins.
            t => MultiHeadAttention.Compute(t[0], t[0], t[0], new MultiHeadWeights(t[1] * Glorot128, t[2], t[3] * Glorot128, t[4], t[5] * Glorot128, t[6], t[7] * Glorot128, t[8]), 8,
                Tensor.FromArray(CausalMaskOf(64), [64, 64], t[0].Device)).Output);
        yield return Case("DotAttentionMaskedLarge", [I(16, 50, 64), I(16, 70, 32), I(16, 70, 64)],
            t => DenseAttention.ApplyScores(Attention.DotScores(t[0], t[2], null), t[1], Tensor.FromArray(KeepMaskOf(16 * 70), [16, 1, 70], t[0].Device), null).Output);
        yield return Case("AdditiveAttentionLarge", [I(8, 30, 32), I(8, 40, 16), I(8, 40, 32), I(32)],
            t => DenseAttention.ApplyScores(AdditiveAttention.AdditiveScores(t[0], t[2], t[3]), t[1], null, null).Output);
    }

    private static readonly float Glorot128 = 1 / MathF.Sqrt(128);

    private static float[] CausalMaskOf(int t)
    {
        var m = new float[t * t];
        for (int i = 0; i < t; i++) for (int j = 0; j <= i; j++) m[i * t + j] = 1;
        return m;
    }

    /// <summary>Every seventh position masked, and none of the first.</summary>
    private static float[] KeepMaskOf(int n) => Enumerable.Range(0, n).Select(i => i % 7 == 3 ? 0f : 1f).ToArray();

    /// <summary>The kernels' exp, log, tanh, sigmoid, softplus and pow against double precision (true relative error).</summary>
    public static List<Check> MathAccuracy(Device device, double tolerance = 1e-6)
    {
        var checks = new List<Check>();
        void Run(string name, float[] x, Func<Tensor, Tensor> op, Func<double, double> reference, double floor)
        {
            var y = op(Tensor.FromArray(x, [x.Length], device)).ToArray();
            double worst = 0; int at = -1;
            for (int i = 0; i < x.Length; i++)
            {
                double e = reference(x[i]);
                if (Math.Abs(e) < 1e-37 || double.IsInfinity(e)) continue; // subnormal and overflowing results
                double err = Math.Abs(y[i] - e) / Math.Max(Math.Abs(e), floor);
                if (double.IsNaN(err)) err = double.PositiveInfinity;
                if (err > worst) { worst = err; at = i; }
            }
            checks.Add(new($"accuracy {name}", worst, tolerance, at < 0 ? "" : $"(worst at x = {x[at]:R}: {y[at]:R} vs {reference(x[at]):R})"));
        }
        float[] Grid(float lo, float hi, int n) => Enumerable.Range(0, n).Select(i => lo + (hi - lo) * i / (n - 1)).ToArray();
        Run("exp", Grid(-87f, 88.5f, 200_001), t => t.Exp(), Math.Exp, 0);
        var positives = Grid(-87f, 88f, 200_001).Select(MathF.Exp).Where(v => v > 0 && float.IsFinite(v)).ToArray();
        Run("log", positives, t => t.Log(), Math.Log, 1e-3);
        Run("log near 1", Grid(0.5f, 2f, 100_001), t => t.Log(), Math.Log, 1e-7);
        Run("tanh", Grid(-12f, 12f, 200_001), t => t.Tanh(), Math.Tanh, 1e-30);
        Run("tanh small", Grid(-1e-3f, 1e-3f, 10_001), t => t.Tanh(), Math.Tanh, 1e-30);
        Run("sigmoid", Grid(-80f, 80f, 200_001), t => t.Sigmoid(), x => 1 / (1 + Math.Exp(-x)), 0);
        Run("softplus", Grid(-80f, 80f, 200_001), t => t.Softplus(), x => Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x))), 0);
        Run("pow 1.5", Grid(1e-3f, 1000f, 100_001), t => t.Pow(1.5f), x => Math.Pow(x, 1.5), 0);
        Run("pow 3 negative", Grid(-30f, 30f, 100_001), t => t.Pow(3f), x => Math.Pow(x, 3), 0);
        Run("pow -0.7", Grid(1e-3f, 1e3f, 100_001), t => t.Pow(-0.7f), x => Math.Pow(x, -0.7), 0);
        return checks;
    }

    // log(1 + u) in double without losing u below double epsilon (Math.Log(1 + u) returns 2.2e-16 for u = 3.3e-16).
    private static double Log1p(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    /// <summary>A Linear-ReLU-Linear classifier trained a few Adam steps on each device from the same start.</summary>
    public static List<Check> MlpTraining(Device device, int steps = 5)
    {
        Module Build() => new Sequential(
            new Linear(20, 64, Activation.Relu, generator: new Generator(1)),
            new Linear(64, 10, generator: new Generator(2)));
        var g = new Generator(3);
        var x = Tensor.RandN(g, [128, 20]);
        var labels = Tensor.FromArray(Enumerable.Range(0, 128).Select(_ => (float)g.NextInt(10)).ToArray(), [128]);
        return TrainBoth(Build, m => new Adam(m.Parameters(), 1e-2f), device, steps, x, labels, "mlp adam");
    }

    /// <summary>A small CNN with BatchNorm and max pooling, SGD with momentum, on each device.</summary>
    public static List<Check> CnnTraining(Device device, int steps = 3)
    {
        Module Build() => new Sequential(
            new Conv2d(1, 8, 3, padding: 1, activation: Activation.Relu, generator: new Generator(4)),
            new BatchNorm2d(8),
            new MaxPool2d(2),
            new Conv2d(8, 16, 3, activation: Activation.Relu, generator: new Generator(5)),
            new Flatten(),
            new Linear(16 * 5 * 5, 10, generator: new Generator(6)));
        var g = new Generator(7);
        var x = Tensor.RandN(g, [16, 1, 14, 14]);
        var labels = Tensor.FromArray(Enumerable.Range(0, 16).Select(_ => (float)g.NextInt(10)).ToArray(), [16]);
        return TrainBoth(Build, m => new Sgd(m.Parameters(), 0.05f, momentum: 0.9f), device, steps, x, labels, "cnn sgd");
    }

    /// <summary>
    /// Every optimizer variant (the fused kernels and their options: dampening, Nesterov, AMSGrad, decoupled decay,
    /// centred RMSprop with momentum) a few steps on each device from the same start, over a size with a ragged last block.
    /// </summary>
    public static List<Check> OptimizerSteps(Device device, int n = 3001, int steps = 4)
    {
        var variants = new (string Name, Func<Tensor, Optimizer> Make)[]
        {
            ("sgd", p => new Sgd([p], 0.1f)),
            ("sgd momentum dampening wd", p => new Sgd([p], 0.1f, 0.9f, weightDecay: 0.01f, dampening: 0.3f)),
            ("sgd nesterov", p => new Sgd([p], 0.1f, 0.9f, nesterov: true)),
            ("adam", p => new Adam([p], 1e-2f)),
            ("adam amsgrad pytorch", p => new Adam([p], 1e-2f, beta2: 0.9f, eps: 1e-8f, pytorchEpsilon: true, amsgrad: true)),
            ("adamw amsgrad", p => new AdamW([p], 1e-2f, weightDecay: 0.1f, amsgrad: true)),
            ("rmsprop", p => new RmsProp([p], 1e-2f)),
            ("rmsprop centered momentum", p => new RmsProp([p], 1e-2f, momentum: 0.9f, weightDecay: 0.01f, centered: true)),
        };
        var g = new Generator(11);
        var start = Tensor.RandN(g, [n]).ToArray();
        var grads = Enumerable.Range(0, steps).Select(t => Tensor.RandN(g, [n], std: t < 2 ? 2f : 0.3f)).ToArray();
        var checks = new List<Check>();
        foreach (var (name, make) in variants)
        {
            Tensor Run(Device d)
            {
                // A fresh leaf per run: the optimizers update in place, and To() of a tensor that requires grad is no leaf.
                var p = Tensor.FromArray(start, [n], d).RequireGrad();
                var opt = make(p);
                foreach (var grad in grads) { p.Grad = grad.To(d); opt.Step(); }
                return p;
            }
            checks.Add(CudaComparison.Compare($"{name} after {steps} steps", Run(Device.Cpu), Run(device), 1e-5));
        }
        return checks;
    }

    /// <summary>The decided edge cases on the device: relu's and Max's gradients at NaN, Maximum's ties, the mean of nothing.</summary>
    public static List<Check> EdgeCases(Device device)
    {
        const float nan = float.NaN;
        var x = Tensor.FromArray(new float[] { nan, -1, 0, 2, 1, nan, 3, 3 }, [2, 4]);
        var other = Tensor.FromArray(new float[] { 0, -1, 1, 2, 1, 0, 3, 4 }, [2, 4]);
        Tensor[] Grads(Device d, bool createGraph)
        {
            var (a, b) = (x.To(d).RequireGrad(), other.To(d).RequireGrad());
            var loss = a.Relu().Sum() + a.Max(1).Sum() + Tensor.Maximum(a, b).Sum() + a.Abs().Sum() + a.Clamp(-1f, 1f).Sum();
            return Autograd.Grad([loss], [a, b], createGraph: createGraph).Select(t => t!).ToArray();
        }
        var checks = new List<Check>();
        foreach (var createGraph in new[] { false, true })
        {
            var (cpu, cuda) = (Grads(Device.Cpu, createGraph), Grads(device, createGraph));
            checks.Add(CudaComparison.Compare($"edge gradients (createGraph {createGraph}) wrt x", cpu[0], cuda[0], 0));
            checks.Add(CudaComparison.Compare($"edge gradients (createGraph {createGraph}) wrt other", cpu[1], cuda[1], 0));
        }
        checks.Add(CudaComparison.Compare("mean of an empty tensor", Tensor.Zeros(0, 3).Mean(0), Tensor.Zeros([0, 3], device).Mean(0), 0));
        return checks;
    }

    /// <summary>The function transforms on the device: reverse and forward Jacobians, a Hessian and an Hvp of a small MLP-like map.</summary>
    public static List<Check> FunctionalTransforms(Device device)
    {
        var g = new Generator(21);
        var (w, x, v) = (Tensor.RandN(g, [5, 4]), Tensor.RandN(g, [4]), Tensor.RandN(g, [4]));
        Tensor Map(Tensor w_, Tensor t) => Tensor.MatMul(w_, t.Reshape(4, 1)).Reshape(5).Softplus() * t.Narrow(0, 0, 1).Tanh();
        Tensor[] Run(Device d)
        {
            var (wd, xd, vd) = (w.To(d), x.To(d), v.To(d));
            Tensor F(Tensor t) => Map(wd, t);
            Tensor Scalar(Tensor t) => (F(t) * F(t)).Sum();
            return [Autograd.Jacobian(F, xd), Autograd.Jacobian(F, xd, JacobianMode.Forward), Autograd.Hessian(Scalar, xd), Autograd.Hvp(Scalar, xd, vd).Hvp];
        }
        var (cpu, cuda) = (Run(Device.Cpu), Run(device));
        string[] names = ["reverse Jacobian", "forward Jacobian", "Hessian", "Hvp"];
        return names.Select((n, i) => CudaComparison.Compare(n, cpu[i], cuda[i], 1e-4)).ToList();
    }

    /// <summary>Keras-style Fit (data loader uploads, metrics read back) on each device from the same start.</summary>
    public static List<Check> TrainerFit(Device device)
    {
        var data = new Blobs().Sample(400);
        Dictionary<string, List<double>> Fit(Device d)
        {
            var model = new Sequential(new Linear(2, 16, Activation.Relu, generator: new Generator(1)), new Linear(16, 5, Activation.Softmax, generator: new Generator(2))).To(d);
            var trainer = new Lab.Core.Training.Trainer(model) { Output = TextWriter.Null, LiveProgress = false };
            trainer.Compile(new Adam(model.Parameters(), 1e-2f), (pred, y) => Losses.SparseCategoricalCrossEntropy(pred, y), new Lab.Core.Training.SparseCategoricalAccuracy());
            return trainer.Fit(data, epochs: 3, batchSize: 32, validationSplit: 0.25, generator: new Generator(5), verbose: 0).Values;
        }
        var cpu = Fit(Device.Cpu);
        var cuda = Fit(device);
        return cpu.Keys.Select(k => Compare($"fit {k} per epoch", cpu[k].Select(v => (float)v).ToArray(),
            cuda.TryGetValue(k, out var c) ? c.Select(v => (float)v).ToArray() : [], 1e-4)).ToList();
    }

    private static List<Check> TrainBoth(Func<Module> build, Func<Module, Optimizer> optimizer, Device device, int steps,
        Tensor x, Tensor labels, string name)
    {
        var checks = new List<Check>();
        var cpu = build();
        var cuda = build().To(device);
        var optCpu = optimizer(cpu);
        var optCuda = optimizer(cuda);
        var (xCuda, labelsCuda) = (x.To(device), labels.To(device));
        for (int s = 0; s < steps; s++)
        {
            var lossCpu = Step(cpu, optCpu, x, labels);
            var lossCuda = Step(cuda, optCuda, xCuda, labelsCuda);
            checks.Add(Compare($"{name} step {s} loss", [lossCpu.Item()], [lossCuda.Item()], 1e-4));
        }
        foreach (var ((pname, p), (_, q)) in cpu.StateDict().Zip(cuda.StateDict()))
            checks.Add(CudaComparison.Compare($"{name} {pname} after {steps} steps", p, q, 1e-4));
        return checks;
    }

    private static Tensor Step(Module model, Optimizer opt, Tensor x, Tensor labels)
    {
        opt.ZeroGrad();
        var loss = Losses.CrossEntropy(model.Call(x), labels);
        loss.Backward();
        opt.Step();
        return loss;
    }

    private static Check Compare(string name, float[] e, float[] a, double tol)
    {
        double err = CudaComparison.WorstError(e, a, out int at);
        return new(name, err, tol, at < 0 ? "" : $"(cpu {e[at]}, cuda {a[at]})");
    }

    /// <summary>After one training step and a collection, a second identical step is served from the cache.</summary>
    public static List<Check> AllocatorReuse(Device device)
    {
        var backend = (CudaBackend)BackendRegistry.For(device);
        var model = new Sequential(new Linear(32, 64, Activation.Relu, generator: new Generator(1)), new Linear(64, 4, generator: new Generator(2))).To(device);
        var opt = new Adam(model.Parameters(), 1e-3f);
        var x = Tensor.RandN(new Generator(3), [256, 32], device: device);
        var labels = Tensor.Zeros([256], device);
        Step(model, opt, x, labels).Item();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = backend.MemoryStats;
        Step(model, opt, x, labels).Item();
        var after = backend.MemoryStats;
        long newBlocks = after.DriverAllocations - before.DriverAllocations, hits = after.CacheHits - before.CacheHits;
        return
        [
            new("allocator: second step needs no cuMemAlloc", newBlocks, 0, $"({newBlocks} new driver blocks, {hits} cache hits; {after.Reserved:N0} bytes reserved)"),
            new("allocator: second step reuses cached blocks", hits > 10 ? 0 : 1, 0, $"({hits} cache hits)"),
            new("allocator: size classes", CudaAllocatorClassCheck(), 0),
        ];
    }

    private static int CudaAllocatorClassCheck()
    {
        // A block freed by the collector serves the next request of its size class (4000 and 3960 bytes: 4096).
        var device = Device.Cuda();
        var backend = (CudaBackend)BackendRegistry.For(device);
        static void Drop(Device d) => _ = Tensor.Empty([1000], d);
        Drop(device);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = backend.MemoryStats.DriverAllocations;
        var again = Tensor.Empty([990], device);
        GC.KeepAlive(again);
        return backend.MemoryStats.DriverAllocations == before ? 0 : 1;
    }

    /// <summary>Mixing devices and bad indices fail with clear messages rather than crashing.</summary>
    public static List<Check> Errors(Device device)
    {
        var checks = new List<Check>();
        void Expect(string name, Action act, string fragment)
        {
            try
            {
                act();
                checks.Add(new(name, 1, 0, "no exception"));
            }
            catch (ArgumentException e)
            {
                checks.Add(new(name, e.Message.Contains(fragment, StringComparison.Ordinal) ? 0 : 1, 0, $"({e.Message})"));
            }
        }
        var onCpu = Tensor.Ones(3);
        var onGpu = Tensor.Ones(3).To(device);
        Expect("mixed devices: add", () => _ = onCpu + onGpu, "different devices");
        Expect("mixed devices: matmul", () => Tensor.MatMul(Tensor.Ones(2, 3), Tensor.Ones(3, 2).To(device)), "different devices");
        Expect("mixed devices: kernel", () => BackendRegistry.For(device).Unary(UnaryOp.Exp, onCpu, onGpu), "To(cuda");
        Expect("mixed devices: optimizer state left on cpu", () =>
        {
            var layer = new Linear(3, 2, generator: new Generator(1));
            var opt = new Adam(layer.Parameters());
            layer.To(device);
            Losses.Mse(layer.Call(Tensor.Ones(4, 3).To(device)), Tensor.Zeros([4, 2], device)).Backward();
            opt.Step();
        }, "cpu");
        Expect("bad index", () => Tensor.Ones(5, 2).To(device).IndexSelect(0, Tensor.FromArray([1f, 7f]).To(device)).ToArray(), "index");
        checks.Add(new("after a bad index the device still works", Math.Abs(Tensor.Ones(4).To(device).Sum().Item() - 4), 0));
        return checks;
    }
}
