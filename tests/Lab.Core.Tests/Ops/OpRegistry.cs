namespace Lab.Core.Tests.Ops;

/// <summary>Every op, once per interesting shape. A new op adds its lines here and is tested everywhere.</summary>
public static partial class OpRegistry
{
    private static Input I(params int[] shape) => new(shape);
    private static Input Pos(params int[] shape) => new(shape, Domain.Positive);
    private static Input Away(params int[] shape) => new(shape, Domain.AwayFromZero);
    private static Input Idx(int bound, int n) => new([n], Domain.Index, bound);
    private static Input Mask(params int[] shape) => new(shape, Domain.Mask);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
    private static int[] Ints(R r) => r.Data.Select(v => (int)v).ToArray();

    private static IEnumerable<OpCase> Unary(string name, Func<Tensor, Tensor> op, Func<double, double> f,
        Domain domain = Domain.Normal, string? noSecond = null, bool diff = true)
    {
        foreach (var shape in new[] { new[] { 3, 5 }, [7], [], [1, 9] })
            yield return new OpCase($"{name}{Fmt(shape)}", [new Input(shape, domain)], t => op(t[0]), r => r[0].Map(f), diff, noSecond);
    }

    private static IEnumerable<OpCase> Binary(string name, Func<Tensor, Tensor, Tensor> op, Func<double, double, double> f,
        Domain left = Domain.Normal, Domain right = Domain.Normal, string? noSecond = null, bool diff = true)
    {
        int[][][] pairs = [[[3, 4], [3, 4]], [[3, 4], [4]], [[2, 3, 4], [3, 1]], [[1], [5]], [[4, 1], [1, 5]], [[2, 3], []], [[2, 1, 3], [2, 4, 1]]];
        foreach (var p in pairs)
            yield return new OpCase($"{name}{Fmt(p[0])}{Fmt(p[1])}", [new Input(p[0], left), new Input(p[1], right)],
                t => op(t[0], t[1]), r => R.Zip(r[0], r[1], f), diff, noSecond);
    }

    private static string Fmt(int[] s) => "[" + string.Join(",", s) + "]";

    public static IEnumerable<OpCase> All()
    {
        var cases = new List<OpCase>();
        cases.AddRange(Unary("Neg", t => -t, x => -x));
        cases.AddRange(Unary("Exp", t => t.Exp(), Math.Exp));
        cases.AddRange(Unary("Log", t => t.Log(), Math.Log, Domain.Positive));
        cases.AddRange(Unary("Sqrt", t => t.Sqrt(), Math.Sqrt, Domain.Positive));
        cases.AddRange(Unary("Abs", t => t.Abs(), Math.Abs, Domain.AwayFromZero));
        cases.AddRange(Unary("Sign", t => t.Sign(), x => Math.Sign(x), diff: false));
        cases.AddRange(Unary("Relu", t => t.Relu(), x => Math.Max(x, 0), Domain.AwayFromZero));
        cases.AddRange(Unary("LeakyRelu", t => t.LeakyRelu(0.2f), x => x > 0 ? x : 0.2 * x, Domain.AwayFromZero));
        cases.AddRange(Unary("Sigmoid", t => t.Sigmoid(), Sigmoid));
        cases.AddRange(Unary("Tanh", t => t.Tanh(), Math.Tanh));
        cases.AddRange(Unary("Softplus", t => t.Softplus(), Softplus));
        cases.AddRange(Unary("Square", t => t.Square(), x => x * x));
        cases.AddRange(Unary("Pow3", t => t.Pow(3f), x => x * x * x));
        cases.AddRange(Unary("PowHalf", t => t.Pow(0.5f), Math.Sqrt, Domain.Positive));
        cases.AddRange(Unary("Clamp", t => t.Clamp(-0.5f, 0.7f), x => Math.Clamp(x, -0.5, 0.7)));
        cases.AddRange(Unary("Affine", t => t * 3f + 2f, x => 3 * x + 2));
        cases.AddRange(Unary("RSub", t => 1f - t, x => 1 - x));
        cases.AddRange(Unary("RDiv", t => 2f / t, x => 2 / x, Domain.AwayFromZero));

        cases.AddRange(Binary("Add", (a, b) => a + b, (x, y) => x + y));
        cases.AddRange(Binary("Sub", (a, b) => a - b, (x, y) => x - y));
        cases.AddRange(Binary("Mul", (a, b) => a * b, (x, y) => x * y));
        cases.AddRange(Binary("Div", (a, b) => a / b, (x, y) => x / y, right: Domain.AwayFromZero));
        cases.AddRange(Binary("Pow", (a, b) => a.Pow(b), Math.Pow, left: Domain.Positive));
        cases.AddRange(Binary("Maximum", Tensor.Maximum, Math.Max));
        cases.AddRange(Binary("Minimum", Tensor.Minimum, Math.Min));
        cases.AddRange(Binary("Lt", (a, b) => a.Lt(b), (x, y) => x < y ? 1 : 0, diff: false));
        cases.AddRange(Binary("Ge", (a, b) => a.Ge(b), (x, y) => x >= y ? 1 : 0, diff: false));
        cases.AddRange(Binary("Eq", (a, b) => a.Eq(b), (x, y) => x == y ? 1 : 0, diff: false));
        cases.Add(new("Where", [Mask(3, 4), I(3, 4), I(4)], t => Tensor.Where(t[0], t[1], t[2]), r => R.Where(r[0], r[1], r[2])));
        cases.Add(new("WhereScalar", [Mask(2, 3), I(2, 3), I()], t => Tensor.Where(t[0], t[1], t[2]), r => R.Where(r[0], r[1], r[2])));
        cases.Add(new("WhereBroadcastEach", [Mask(3, 1), I(1, 4), I(2, 1, 1)], t => Tensor.Where(t[0], t[1], t[2]), r => R.Where(r[0], r[1], r[2])));

        cases.Add(new("SumAll", [I(3, 4, 5)], t => t[0].Sum(), r => r[0].Reduce([0, 1, 2], false, g => g.Sum())));
        cases.Add(new("Sum0", [I(3, 4)], t => t[0].Sum(0), r => r[0].Reduce([0], false, g => g.Sum())));
        cases.Add(new("Sum1Keep", [I(3, 4)], t => t[0].Sum(1, keepDim: true), r => r[0].Reduce([1], true, g => g.Sum())));
        cases.Add(new("Sum02", [I(2, 3, 4)], t => t[0].Sum([0, 2]), r => r[0].Reduce([0, 2], false, g => g.Sum())));
        cases.Add(new("SumMiddle", [I(2, 3, 4, 5)], t => t[0].Sum([1, 2], keepDim: true), r => r[0].Reduce([1, 2], true, g => g.Sum())));
        cases.Add(new("MeanAll", [I(4, 5)], t => t[0].Mean(), r => r[0].Reduce([0, 1], false, g => g.Average())));
        cases.Add(new("Mean1", [I(4, 5)], t => t[0].Mean(1), r => r[0].Reduce([1], false, g => g.Average())));
        cases.Add(new("Max1", [I(4, 6)], t => t[0].Max(1), r => r[0].Reduce([1], false, g => g.Max())));
        cases.Add(new("Max0Keep", [I(4, 6)], t => t[0].Max(0, keepDim: true), r => r[0].Reduce([0], true, g => g.Max())));
        cases.Add(new("MaxAll", [I(3, 5)], t => t[0].Max(), r => r[0].Reduce([0, 1], false, g => g.Max())));
        cases.Add(new("Min1", [I(4, 6)], t => t[0].Min(1), r => r[0].Reduce([1], false, g => g.Min())));
        cases.Add(new("Max1Batch1", [I(1, 7)], t => t[0].Max(1), r => r[0].Reduce([1], false, g => g.Max())));
        cases.Add(new("Min0KeepOdd", [I(5, 3)], t => t[0].Min(0, keepDim: true), r => r[0].Reduce([0], true, g => g.Min())));
        cases.Add(new("Mean0Odd", [I(5, 3)], t => t[0].Mean(0), r => r[0].Reduce([0], false, g => g.Average())));
        cases.Add(new("ArgMax1", [I(5, 7)], t => t[0].ArgMax(1), r => r[0].Reduce([1], false, g => g.IndexOf(g.Max())), Differentiable: false));
        cases.Add(new("ArgMax0", [I(5, 7)], t => t[0].ArgMax(0), r => r[0].Reduce([0], false, g => g.IndexOf(g.Max())), Differentiable: false));
        cases.Add(new("Softmax", [I(4, 6)], t => t[0].Softmax(-1), r => r[0].Softmax(-1, false)));
        cases.Add(new("Softmax0", [I(4, 3, 2)], t => t[0].Softmax(0), r => r[0].Softmax(0, false)));
        cases.Add(new("LogSoftmax", [I(4, 6)], t => t[0].LogSoftmax(-1), r => r[0].Softmax(-1, true)));
        cases.Add(new("LogSoftmax1", [I(2, 5, 3)], t => t[0].LogSoftmax(1), r => r[0].Softmax(1, true)));

        cases.Add(new("MatMul", [I(3, 4), I(4, 5)], t => Tensor.MatMul(t[0], t[1]), r => R.MatMul(r[0], r[1], false, false)));
        cases.Add(new("MatMulTA", [I(4, 3), I(4, 5)], t => Tensor.MatMul(t[0], t[1], true, false), r => R.MatMul(r[0], r[1], true, false)));
        cases.Add(new("MatMulTB", [I(3, 4), I(5, 4)], t => Tensor.MatMul(t[0], t[1], false, true), r => R.MatMul(r[0], r[1], false, true)));
        cases.Add(new("MatMulTATB", [I(4, 3), I(5, 4)], t => Tensor.MatMul(t[0], t[1], true, true), r => R.MatMul(r[0], r[1], true, true)));
        cases.Add(new("MatMulBatched", [I(2, 3, 4), I(2, 4, 5)], t => Tensor.MatMul(t[0], t[1]), r => R.MatMul(r[0], r[1], false, false)));
        cases.Add(new("MatMulBatchedTB", [I(2, 3, 4), I(2, 5, 4)], t => Tensor.MatMul(t[0], t[1], false, true), r => R.MatMul(r[0], r[1], false, true)));
        cases.Add(new("MatMul3x2", [I(2, 3, 4), I(4, 5)], t => Tensor.MatMul(t[0], t[1]), r => R.MatMul(r[0], r[1], false, false)));
        cases.Add(new("MatMul3x2TB", [I(2, 3, 4), I(5, 4)], t => Tensor.MatMul(t[0], t[1], false, true), r => R.MatMul(r[0], r[1], false, true)));
        cases.Add(new("MatMul2x3", [I(3, 4), I(2, 4, 5)], t => Tensor.MatMul(t[0], t[1]), r => R.MatMul(r[0], r[1], false, false)));
        cases.Add(new("Linear", [I(5, 3), I(4, 3), I(4)], t => Tensor.MatMul(t[0], t[1], false, true) + t[2],
            r => R.Zip(R.MatMul(r[0], r[1], false, true), r[2], (a, b) => a + b)));

        cases.Add(new("Reshape", [I(2, 6)], t => t[0].Reshape(3, -1), r => r[0].Reshape([3, 4])));
        cases.Add(new("Flatten", [I(2, 3, 4)], t => t[0].Flatten(1), r => r[0].Reshape([2, 12])));
        cases.Add(new("Unsqueeze", [I(3, 4)], t => t[0].Unsqueeze(1), r => r[0].Reshape([3, 1, 4])));
        cases.Add(new("Permute", [I(2, 3, 4)], t => t[0].Permute(2, 0, 1), r => r[0].Permute([2, 0, 1])));
        cases.Add(new("Transpose", [I(3, 5)], t => t[0].T, r => r[0].Permute([1, 0])));
        cases.Add(new("Permute4", [I(2, 3, 2, 4)], t => t[0].Permute(0, 2, 3, 1), r => r[0].Permute([0, 2, 3, 1])));
        cases.Add(new("Expand", [I(3, 1)], t => t[0].Expand(2, 3, 4), r => r[0].Expand([2, 3, 4])));
        cases.Add(new("Concat0", [I(2, 3), I(4, 3)], t => Tensor.Concat([t[0], t[1]], 0), r => R.Concat([r[0], r[1]], 0)));
        cases.Add(new("Concat1", [I(2, 3), I(2, 1), I(2, 2)], t => Tensor.Concat([t[0], t[1], t[2]], 1), r => R.Concat([r[0], r[1], r[2]], 1)));
        cases.Add(new("Stack", [I(2, 3), I(2, 3)], t => Tensor.Stack([t[0], t[1]], 1),
            r => R.Concat([r[0].Reshape([2, 1, 3]), r[1].Reshape([2, 1, 3])], 1)));
        cases.Add(new("Narrow0", [I(5, 3)], t => t[0].Narrow(0, 1, 3), r => r[0].Narrow(0, 1, 3)));
        cases.Add(new("Narrow1", [I(2, 6, 2)], t => t[0].Narrow(1, 2, 3), r => r[0].Narrow(1, 2, 3)));
        cases.Add(new("IndexSelect0", [I(5, 3), Idx(5, 7)], t => t[0].IndexSelect(0, t[1]), r => r[0].IndexSelect(0, Ints(r[1]))));
        cases.Add(new("IndexSelect1", [I(2, 4, 3), Idx(4, 5)], t => t[0].IndexSelect(1, t[1]), r => r[0].IndexSelect(1, Ints(r[1]))));
        cases.Add(new("Gather", [I(6, 4), Idx(4, 6)], t => t[0].Gather(t[1]), r => r[0].Gather(Ints(r[1]))));
        cases.Add(new("SoftmaxBatch1", [I(1, 5)], t => t[0].Softmax(-1), r => r[0].Softmax(-1, false)));
        cases.Add(new("LogSoftmaxOdd", [I(3, 7)], t => t[0].LogSoftmax(1), r => r[0].Softmax(1, true)));
        cases.AddRange(ActivationsAndLosses());
        cases.AddRange(Recurrent());
        cases.AddRange(SequenceLayers());
        cases.AddRange(AttentionAndNormalization());
        cases.AddRange(FunctionalOps());
        cases.Add(new("NllLike", [I(6, 4), Idx(4, 6)], t => t[0].LogSoftmax(1).Gather(t[1]).Mean(),
            r => r[0].Softmax(1, true).Gather(Ints(r[1])).Reduce([0], false, g => g.Average())));

        // Convolutions: every geometry option, each axis on its own (PyTorch's conv2d and conv_transpose2d).
        cases.Add(new("Conv2d", [I(2, 3, 5, 5), I(4, 3, 3, 3), I(4)], t => Tensor.Conv2d(t[0], t[1], t[2]), r => R.Conv2d(r[0], r[1], r[2], 1, 0)));
        cases.Add(new("Conv2dStridePad", [I(2, 2, 6, 5), I(3, 2, 3, 3)], t => Tensor.Conv2d(t[0], t[1], null, 2, 1), r => R.Conv2d(r[0], r[1], null, 2, 1)));
        cases.Add(new("Conv2dSame", [I(1, 2, 4, 4), I(2, 2, 3, 3), I(2)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, Padding.SameSize), r => R.Conv2d(r[0], r[1], r[2], 1, 1)));
        cases.Add(new("Conv2d1x1", [I(2, 3, 3, 3), I(2, 3, 1, 1)], t => Tensor.Conv2d(t[0], t[1]), r => R.Conv2d(r[0], r[1], null, 1, 0)));
        cases.Add(new("Conv2dNonSquare", [I(2, 2, 5, 7), I(3, 2, 2, 3), I(3)], t => Tensor.Conv2d(t[0], t[1], t[2]), r => R.Conv2d(r[0], r[1], r[2], 1, 0)));
        cases.Add(new("Conv2dPadHW", [I(1, 2, 6, 5), I(2, 2, 3, 3)], t => Tensor.Conv2d(t[0], t[1], null, 3, (1, 0)),
            r => R.Conv2d(r[0], r[1], null, (3, 3), (1, 0, 1, 0))));
        cases.Add(new("Conv2dStrideHW", [I(2, 2, 7, 6), I(3, 2, 3, 2), I(3)], t => Tensor.Conv2d(t[0], t[1], t[2], (2, 3), (0, 1)),
            r => R.Conv2d(r[0], r[1], r[2], (2, 3), (0, 1, 0, 1))));
        cases.Add(new("Conv2dSameNonSquare", [I(2, 1, 4, 5), I(2, 1, 3, 5), I(2)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, Padding.SameSize),
            r => R.Conv2d(r[0], r[1], r[2], (1, 1), (1, 2, 1, 2))));
        // "same" with an even kernel: the odd row and column of padding go to the bottom and right.
        cases.Add(new("Conv2dSameEven", [I(1, 2, 5, 6), I(2, 2, 2, 4), I(2)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, Padding.SameSize),
            r => R.Conv2d(r[0], r[1], r[2], (1, 1), (0, 1, 1, 2))));
        cases.Add(new("Conv2dSameDilated", [I(1, 2, 6, 6), I(2, 2, 2, 3)], t => Tensor.Conv2d(t[0], t[1], null, 1, Padding.SameSize, dilation: (3, 2)),
            r => R.Conv2d(r[0], r[1], null, (1, 1), (1, 2, 2, 2), (3, 2))));
        cases.Add(new("Conv2dDilation", [I(2, 2, 7, 8), I(3, 2, 3, 3), I(3)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1, dilation: 2),
            r => R.Conv2d(r[0], r[1], r[2], (1, 1), (1, 1, 1, 1), (2, 2))));
        cases.Add(new("Conv2dDilationStride", [I(1, 2, 9, 8), I(2, 2, 2, 3)], t => Tensor.Conv2d(t[0], t[1], null, 2, (1, 2), dilation: (2, 3)),
            r => R.Conv2d(r[0], r[1], null, (2, 2), (1, 2, 1, 2), (2, 3))));
        cases.Add(new("Conv2dGroups", [I(2, 4, 5, 5), I(6, 2, 3, 3), I(6)], t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1, groups: 2),
            r => R.Conv2d(r[0], r[1], r[2], (1, 1), (1, 1, 1, 1), groups: 2)));
        cases.Add(new("Conv2dDepthwise", [I(2, 3, 6, 5), I(3, 1, 3, 3), I(3)], t => Tensor.Conv2d(t[0], t[1], t[2], (2, 1), 1, groups: 3),
            r => R.Conv2d(r[0], r[1], r[2], (2, 1), (1, 1, 1, 1), groups: 3)));
        cases.Add(new("Conv2dDepthwiseMultiplier", [I(1, 2, 5, 5), I(4, 1, 3, 2)], t => Tensor.Conv2d(t[0], t[1], null, 1, 0, dilation: (1, 2), groups: 2),
            r => R.Conv2d(r[0], r[1], null, (1, 1), (0, 0, 0, 0), (1, 2), groups: 2)));
        cases.Add(new("Conv2dGroupsPointwise", [I(1, 4, 3, 4), I(2, 2, 1, 1)], t => Tensor.Conv2d(t[0], t[1], groups: 2),
            r => R.Conv2d(r[0], r[1], null, (1, 1), (0, 0, 0, 0), groups: 2)));
        cases.Add(new("ConvTranspose2d", [I(2, 3, 3, 3), I(3, 2, 2, 2), I(2)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2]), r => R.ConvTranspose2d(r[0], r[1], r[2], 1, 0)));
        cases.Add(new("ConvTranspose2dStride2", [I(1, 2, 3, 2), I(2, 3, 3, 3)], t => Tensor.ConvTranspose2d(t[0], t[1], null, 2, 1), r => R.ConvTranspose2d(r[0], r[1], null, 2, 1)));
        cases.Add(new("ConvTranspose2dOutPad", [I(1, 2, 3, 3), I(2, 2, 3, 3)], t => Tensor.ConvTranspose2d(t[0], t[1], null, 2, 1, outputPadding: 1), r => R.ConvTranspose2d(r[0], r[1], null, 2, 1, 1)));
        cases.Add(new("ConvTranspose2dNonSquare", [I(1, 3, 2, 3), I(3, 2, 2, 3), I(2)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 1, (0, 1)),
            r => R.ConvTranspose2d(r[0], r[1], r[2], (1, 1), (0, 1), (0, 0))));
        cases.Add(new("ConvTranspose2dStrideHW", [I(2, 2, 3, 4), I(2, 3, 3, 2), I(3)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], (2, 3), (1, 0), outputPadding: (1, 2)),
            r => R.ConvTranspose2d(r[0], r[1], r[2], (2, 3), (1, 0), (1, 2))));
        cases.Add(new("ConvTranspose2dDilation", [I(1, 2, 3, 3), I(2, 2, 3, 3)], t => Tensor.ConvTranspose2d(t[0], t[1], null, 2, 1, outputPadding: 1, dilation: 2),
            r => R.ConvTranspose2d(r[0], r[1], null, (2, 2), (1, 1), (1, 1), (2, 2))));
        // Output padding may reach the dilation when that exceeds the stride (PyTorch's rule).
        cases.Add(new("ConvTranspose2dDilationOutPad", [I(2, 1, 3, 2), I(1, 2, 2, 2), I(2)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 1, 0, outputPadding: (2, 1), dilation: (3, 2)),
            r => R.ConvTranspose2d(r[0], r[1], r[2], (1, 1), (0, 0), (2, 1), (3, 2))));
        cases.Add(new("ConvTranspose2dGroups", [I(2, 4, 3, 3), I(4, 3, 3, 3), I(6)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 2, 1, groups: 2),
            r => R.ConvTranspose2d(r[0], r[1], r[2], (2, 2), (1, 1), (0, 0), groups: 2)));
        cases.Add(new("ConvTranspose2dDepthwise", [I(1, 3, 3, 4), I(3, 1, 3, 3)], t => Tensor.ConvTranspose2d(t[0], t[1], null, (1, 2), 1, outputPadding: (0, 1), groups: 3),
            r => R.ConvTranspose2d(r[0], r[1], null, (1, 2), (1, 1), (0, 1), groups: 3)));
        // Batches of 8 and more take the batch-in-lanes kernels (DirectConvLanes), every product and its gradients.
        cases.Add(new("Conv2dLanes", [I(9, 2, 5, 4), I(3, 2, 3, 3), I(3)], t => Tensor.Conv2d(t[0], t[1], t[2], (2, 1), 1),
            r => R.Conv2d(r[0], r[1], r[2], (2, 1), (1, 1, 1, 1))));
        cases.Add(new("ConvTranspose2dLanes", [I(8, 3, 3, 3), I(3, 2, 2, 2), I(2)], t => Tensor.ConvTranspose2d(t[0], t[1], t[2], 2),
            r => R.ConvTranspose2d(r[0], r[1], r[2], 2, 0)));
        // Pooling: non-square inputs and windows, per-axis options, strides that leave input unused, batch 1,
        // ceil mode (with and without a dropped last window), dilation, and both average divisors.
        cases.Add(new("MaxPool2d", [I(2, 3, 4, 6)], t => t[0].MaxPool2d(2), r => R.Pool(r[0], 2, 2, 0, true)));
        cases.Add(new("MaxPool2dOverlap", [I(1, 2, 5, 5)], t => t[0].MaxPool2d(3, 2, 1), r => R.Pool(r[0], 3, 2, 1, true)));
        cases.Add(new("MaxPool2dPerAxis", [I(2, 3, 5, 7)], t => t[0].MaxPool2d((2, 3), (1, 2), (1, 1)), r => R.Pool(r[0], (2, 3), (1, 2), (1, 1), true)));
        cases.Add(new("MaxPool2dStrideLeavesInput", [I(1, 2, 7, 6)], t => t[0].MaxPool2d(3, 2), r => R.Pool(r[0], (3, 3), (2, 2), (0, 0), true)));
        cases.Add(new("MaxPool2dBatch1", [I(1, 1, 4, 5)], t => t[0].MaxPool2d(2), r => R.Pool(r[0], 2, 2, 0, true)));
        cases.Add(new("MaxPool2dCeil", [I(2, 2, 5, 7)], t => t[0].MaxPool2d(2, ceilMode: true), r => R.Pool(r[0], (2, 2), (2, 2), (0, 0), true, ceil: true)));
        cases.Add(new("MaxPool2dCeilDropsLast", [I(1, 2, 5, 4)], t => t[0].MaxPool2d(2, 2, 1, ceilMode: true), r => R.Pool(r[0], (2, 2), (2, 2), (1, 1), true, ceil: true)));
        cases.Add(new("MaxPool2dDilation", [I(2, 2, 7, 8)], t => t[0].MaxPool2d(3, (2, 1), 1, dilation: (2, 1)), r => R.Pool(r[0], (3, 3), (2, 1), (1, 1), true, dilation: (2, 1))));
        cases.Add(new("AvgPool2d", [I(2, 2, 4, 4)], t => t[0].AvgPool2d(2), r => R.Pool(r[0], 2, 2, 0, false)));
        cases.Add(new("AvgPool2dPad", [I(1, 2, 5, 5)], t => t[0].AvgPool2d(3, 2, 1), r => R.Pool(r[0], 3, 2, 1, false)));
        cases.Add(new("AvgPool2dPerAxis", [I(2, 2, 5, 7)], t => t[0].AvgPool2d((3, 2), (2, 1), (1, 1)), r => R.Pool(r[0], (3, 2), (2, 1), (1, 1), false)));
        cases.Add(new("AvgPool2dExcludePad", [I(1, 3, 5, 6)], t => t[0].AvgPool2d(3, 2, 1, countIncludePad: false), r => R.Pool(r[0], (3, 3), (2, 2), (1, 1), false, countIncludePad: false)));
        cases.Add(new("AvgPool2dCeil", [I(2, 2, 5, 7)], t => t[0].AvgPool2d(2, ceilMode: true), r => R.Pool(r[0], (2, 2), (2, 2), (0, 0), false, ceil: true)));
        cases.Add(new("AvgPool2dCeilPad", [I(1, 2, 6, 5)], t => t[0].AvgPool2d(3, 2, 1, ceilMode: true), r => R.Pool(r[0], (3, 3), (2, 2), (1, 1), false, ceil: true)));
        cases.Add(new("AvgPool2dCeilExcludePad", [I(1, 2, 6, 5)], t => t[0].AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false),
            r => R.Pool(r[0], (3, 3), (2, 2), (1, 1), false, ceil: true, countIncludePad: false)));
        cases.Add(new("AvgPool2dGlobalBatch1", [I(1, 3, 3, 5)], t => t[0].AvgPool2d((3, 5)), r => R.Pool(r[0], (3, 5), (3, 5), (0, 0), false)));

        // The fused convolution, ReLU and max pool (Sequential's conv block): the 2x2 kernel with an odd last row and
        // column left out, the single-channel kernel that pools in registers, a general overlapping pool, and the
        // convolution's options (stride, padding, groups).
        cases.Add(new("Conv2dReluMaxPool2d", [I(2, 3, 7, 8), I(4, 3, 3, 3), I(4)], t => Tensor.Conv2dReluMaxPool2d(t[0], t[1], t[2], 2),
            r => R.Pool(R.Conv2d(r[0], r[1], r[2], 1, 0).Map(v => Math.Max(v, 0)), 2, 2, 0, true)));
        cases.Add(new("Conv2dReluMaxPool2dSingleChannel", [I(2, 1, 6, 7), I(5, 1, 3, 3), I(5)], t => Tensor.Conv2dReluMaxPool2d(t[0], t[1], t[2], 2),
            r => R.Pool(R.Conv2d(r[0], r[1], r[2], 1, 0).Map(v => Math.Max(v, 0)), 2, 2, 0, true)));
        cases.Add(new("Conv2dReluMaxPool2dOverlap", [I(1, 2, 7, 6), I(3, 2, 2, 2)], t => Tensor.Conv2dReluMaxPool2d(t[0], t[1], null, 3, 2),
            r => R.Pool(R.Conv2d(r[0], r[1], null, 1, 0).Map(v => Math.Max(v, 0)), 3, 2, 0, true)));
        // 2x2 pools take their gradients straight from the pooled gradient on AVX-512 (Cpu.ConvPoolGrad): here with a
        // strided, padded 2x3 kernel over 17 channels (a partial block of 16), an odd last row and column left out.
        cases.Add(new("Conv2dReluMaxPool2dStridePad", [I(2, 17, 6, 9), I(3, 17, 2, 3), I(3)],
            t => Tensor.Conv2dReluMaxPool2d(t[0], t[1], t[2], 2, stride: (1, 2), padding: 1),
            r => R.Pool(R.Conv2d(r[0], r[1], r[2], (1, 2), (1, 1, 1, 1)).Map(v => Math.Max(v, 0)), 2, 2, 0, true)));
        cases.Add(new("Conv2dReluMaxPool2dStridePadGroups", [I(2, 4, 7, 7), I(4, 2, 3, 3), I(4)],
            t => Tensor.Conv2dReluMaxPool2d(t[0], t[1], t[2], (2, 1), (1, 2), stride: 2, padding: 1, groups: 2),
            r => R.Pool(R.Conv2d(r[0], r[1], r[2], (2, 2), (1, 1, 1, 1), groups: 2).Map(v => Math.Max(v, 0)), (2, 1), (1, 2), (0, 0), true)));

        // Batch norm (composite): training statistics on 2-, 3- and 4-d inputs (batch 1 where a channel still has
        // several values), evaluation with running statistics (batch 1 included), with and without scale and shift.
        cases.Add(new("BatchNormTrain2d", [I(4, 3, 2, 3), I(3), I(3)], t => Tensor.BatchNorm(t[0], null, null, t[1], t[2], training: true),
            r => R.BatchNorm(r[0], null, null, r[1], r[2], training: true)));
        cases.Add(new("BatchNormTrain1d", [I(5, 3), I(3), I(3)], t => Tensor.BatchNorm(t[0], null, null, t[1], t[2], training: true),
            r => R.BatchNorm(r[0], null, null, r[1], r[2], training: true)));
        cases.Add(new("BatchNormTrainSequence", [I(2, 3, 4)], t => Tensor.BatchNorm(t[0], null, null, null, null, training: true),
            r => R.BatchNorm(r[0], null, null, null, null, training: true)));
        cases.Add(new("BatchNormTrainBatch1", [I(1, 2, 3, 3), I(2), I(2)], t => Tensor.BatchNorm(t[0], null, null, t[1], t[2], training: true),
            r => R.BatchNorm(r[0], null, null, r[1], r[2], training: true)));
        // The fused CPU kernels' vector tails: spatial sizes that are not a multiple of 16, and each affine part alone.
        cases.Add(new("BatchNormTrainOddSpatialWeightOnly", [I(3, 2, 5, 7), I(2)], t => Tensor.BatchNorm(t[0], null, null, t[1], null, training: true),
            r => R.BatchNorm(r[0], null, null, r[1], null, training: true)));
        cases.Add(new("BatchNormTrainBiasOnly", [I(2, 3, 17), I(3)], t => Tensor.BatchNorm(t[0], null, null, null, t[1], training: true),
            r => R.BatchNorm(r[0], null, null, null, r[1], training: true)));
        // Synchronised over the ranks of a one-rank job: the global batch is this one (two ranks: MpiTests).
        cases.Add(new("SyncBatchNormTrain2dOneRank", [I(4, 3, 2, 3), I(3), I(3)],
            t => Tensor.BatchNorm(t[0], null, null, t[1], t[2], training: true, synchronised: new global::Lab.Core.Distributed.DataParallel(global::Lab.Core.Distributed.Communicator.SingleProcess)),
            r => R.BatchNorm(r[0], null, null, r[1], r[2], training: true)));
        cases.Add(new("BatchNormEval2d", [I(2, 3, 2, 2), I(3), Pos(3), I(3), I(3)], t => Tensor.BatchNorm(t[0], t[1], t[2], t[3], t[4], training: false),
            r => R.BatchNorm(r[0], r[1], r[2], r[3], r[4], training: false)));
        cases.Add(new("BatchNormEvalBatch1", [I(1, 4), I(4), Pos(4), I(4), I(4)], t => Tensor.BatchNorm(t[0], t[1], t[2], t[3], t[4], training: false),
            r => R.BatchNorm(r[0], r[1], r[2], r[3], r[4], training: false)));

        // Dropout with a fixed generator is a fixed mask times 1 / (1 - p): the reference replays the same mask.
        foreach (var shape in new[] { new[] { 3, 5 }, [2, 3, 4], [1, 6] })
            cases.Add(new($"Dropout{Fmt(shape)}", [new Input(shape)], t => t[0].Dropout(0.4f, new Generator(9)),
                r => R.Zip(r[0], R.Of(Tensor.Ones(shape).Dropout(0.4f, new Generator(9))), (x, m) => x * m)));
        return cases;
    }

    private static readonly Lazy<Dictionary<string, OpCase>> ByName = new(() => All().ToDictionary(c => c.Name));

    public static OpCase Get(string name) => ByName.Value[name];

    public static TheoryData<string> Names(Func<OpCase, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var c in ByName.Value.Values.Where(filter)) data.Add(c.Name);
        return data;
    }
}
