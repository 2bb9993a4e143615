using System.Reflection;
using Lab.Core.Autodiff;
using Lab.Core.Backends;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

/// <summary>Every <see cref="IBackend"/> method is recorded and replayed: one step calls each of them, traced and eager.</summary>
public class BackendCoverageTests
{
    /// <summary>
    /// Methods that are not kernels a replay runs: allocation (a zeroed one is recorded as a Fill), reading back (an error
    /// while recording) and capability queries (forwarded, so the recorded step takes the eager step's path).
    /// </summary>
    private static readonly string[] NotReplayed = ["Allocate", "Download", "FusesConv2dReluMaxPool2d", "FusesConv2dReluMaxPool2dGradWeight",
        "FusesConv2dReluMaxPool2dGradInput"];

    [Fact]
    public void Every_backend_method_has_a_recorded_kernel_kind()
    {
        var methods = typeof(IBackend).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).Except(NotReplayed).Order().ToArray();
        var kinds = Enum.GetNames<KernelKind>().Order().ToArray();
        Assert.Equal(methods, kinds);
    }

    /// <summary>A view of <paramref name="numel"/> elements of the source buffer from <paramref name="offset"/>, shaped.</summary>
    private static Tensor Part(Tensor source, ref int offset, params int[] shape)
    {
        int n = ShapeUtil.Numel(shape);
        var t = source.Narrow(0, offset, n).Reshape(shape);
        offset += n;
        return t;
    }

    /// <summary>Calls every IBackend kernel once on views of a copy of the input (and on constant index tensors).</summary>
    private static Tensor[] EveryKernel(Tensor[] inputs)
    {
        using var _ = new NoGrad();
        var src = inputs[0].Clone();   // a Copy: in-place kernels below must not change the caller's tensor
        var b = src.Backend;
        int o = 0;
        var outputs = new List<Tensor>();
        Tensor Out(params int[] shape) { var t = Tensor.Empty(shape); outputs.Add(t); return t; }
        Tensor In(params int[] shape) => Part(src, ref o, shape);

        var x = In(2, 3, 4);
        var g = In(2, 3, 4);
        var zeroed = Tensor.Zeros([2, 3, 4]);   // Allocate(zero: true): zeroed again at every replay, then accumulated into
        outputs.Add(zeroed);
        b.Axpy(2f, g, zeroed);
        var filled = Out(5); b.Fill(filled, 3f);
        var u = Out(2, 3, 4); b.Unary(UnaryOp.Tanh, x, u);
        var ug = Out(2, 3, 4); b.UnaryGrad(UnaryOp.Tanh, x, u, g, ug);
        var bin = Out(2, 3, 4); b.Binary(BinaryOp.Mul, x, In(3, 1), bin);
        var where = Out(2, 3, 4); b.Where(g, x, In(1, 4), where);
        var copy = Out(2, 3, 4); b.Copy(x, copy);
        var reduced = Out(2, 4); b.Reduce(ReduceOp.Max, x, 2, 3, 4, reduced);
        var soft = Out(2, 3, 4); b.Softmax(x, soft, 2, 3, 4, log: false);
        var softGrad = Out(2, 3, 4); b.SoftmaxGrad(soft, g, softGrad, 2, 3, 4, log: false);
        var mm = Out(2, 4); b.MatMul(In(2, 3), false, 0, In(4, 3), true, 0, mm, 1, 2, 4, 3, 0f);
        var perm = Out(4, 2, 3); b.Permute(x, [2, 0, 1], perm);
        var blocks = Out(2, 2, 4); b.CopyBlocks(x, 4, 12, blocks, 0, 8, 2, 8, accumulate: false);
        var index = Tensor.FromArray([2f, 0f]);   // Upload: a constant of the trace
        var selected = Out(2, 2, 4); b.IndexSelect(x, index, selected, 2, 3, 4);
        var indexAdded = Tensor.Zeros([2, 3, 4]); outputs.Add(indexAdded); b.IndexAdd(selected, index, indexAdded, 2, 3, 4);
        var classes = Tensor.FromArray([4f, 0f, 2f]);
        var logits = In(3, 5);
        var gathered = Out(3); b.Gather(logits, classes, gathered, 3, 5);
        var scattered = Tensor.Zeros([3, 5]); outputs.Add(scattered); b.ScatterAdd(gathered, classes, scattered, 3, 5);

        var (p1, p2, p3) = (In(6).Clone(), In(6).Clone(), In(6).Clone());
        var grad = In(6);
        var (m, v, velocity, square) = (Tensor.Zeros([6]), Tensor.Zeros([6]), Tensor.Zeros([6]), Tensor.Zeros([6]));
        outputs.AddRange([p1, p2, p3, m, v, velocity, square]);
        b.AdamStep(p1, grad, m, v, default, new AdamArgs(1e-2f, 0.9f, 0.999f, 1e-7f, 0, false, 1));
        b.SgdStep(p2, grad, velocity, 0.1f, 0.9f, 1f, nesterov: true, 0.01f);
        b.RmsPropStep(p3, grad, square, default, default, 0.01f, 0.9f, 1e-7f, 0f, 0f);
        var sumSq = Out(1); b.SumOfSquares(grad, sumSq);

        var ln = Out(3, 4); var rstd = Out(3); b.LayerNorm(In(3, 4), ln, rstd, 3, 4, 1e-5f);
        var lnGrad = Out(3, 4); b.LayerNormGrad(ln, rstd, In(3, 4), lnGrad, 3, 4);

        // Batch norm of x as 2 samples x 3 channels x 4 positions: the fused CPU kernels (running statistics updated in place).
        Assert.True(b.FusesBatchNorm);
        var (bnWeight, bnBias) = (In(3), In(3));
        var (runMean, runVar) = (Tensor.Zeros([3]), Tensor.Full([3], 1f));
        outputs.AddRange([runMean, runVar]);
        var bn = Out(2, 3, 4); var bnMean = Out(3); var bnInvStd = Out(3);
        b.BatchNormTrain(x, bnWeight, bnBias, bn, bnMean, bnInvStd, runMean, runVar, 2, 3, 4, 0.1f, 1e-3f);
        var bnEval = Out(2, 3, 4); b.BatchNormEval(x, runMean, runVar, bnWeight, bnBias, bnEval, 2, 3, 4, 1e-3f);
        var bnDx = Out(2, 3, 4); var bnDw = Out(3); var bnDb = Out(3);
        b.BatchNormGrad(x, g, bnMean, bnInvStd, bnWeight, bnDx, bnDw, bnDb, 2, 3, 4);

        var cg = new ConvGeometry(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1);
        var (image, w, bias) = (In(1, 2, 5, 5), In(3, 2, 3, 3), In(3));
        var conv = Out(1, 3, 5, 5); b.Conv2d(image, w, bias, conv, cg);
        var dy = In(1, 3, 5, 5);
        var convDx = Out(1, 2, 5, 5); b.Conv2dGradInput(dy, w, convDx, cg);
        var convDw = Out(3, 2, 3, 3); b.Conv2dGradWeight(image, dy, convDw, cg);
        var db = Out(3); b.ChannelSum(dy, db, 1, 3, 25);

        var pg = new PoolGeometry(1, 2, 4, 4, 2, 2, 2, 2, 0, 0);
        var planes = In(1, 2, 4, 4);
        var pooled = Out(1, 2, 2, 2); var argmax = Out(1, 2, 2, 2); b.MaxPool2d(planes, pooled, argmax, pg);
        var poolDy = In(1, 2, 2, 2);
        var poolDx = Out(1, 2, 4, 4); b.MaxPool2dGrad(poolDy, argmax, poolDx, pg);
        var gatheredPool = Out(1, 2, 2, 2); b.MaxPool2dGather(planes, argmax, gatheredPool, pg);
        var reluPooled = Out(1, 2, 2, 2); var reluArgmax = Out(1, 2, 2, 2); b.ReluMaxPool2d(planes, reluPooled, reluArgmax, pg);
        var reluPoolDx = Out(1, 2, 4, 4); b.ReluMaxPool2dGrad(poolDy, reluPooled, reluArgmax, reluPoolDx, pg);
        // A single-channel 3x3 convolution of a 6x6 plane, ReLU and 2x2 pooling: the CPU's fused first-layer kernels
        // (AVX-512 machines; elsewhere the op composes them and the kinds are not expected).
        var fg = new ConvGeometry(1, 1, 6, 6, 2, 3, 3, 1, 1, 0, 0);
        var fp = new PoolGeometry(1, 2, 4, 4, 2, 2, 2, 2, 0, 0);
        if (b.FusesConv2dReluMaxPool2d(fg, fp) && b.FusesConv2dReluMaxPool2dGradWeight(fg, fp))
        {
            var (plane, fw, fb) = (In(1, 1, 6, 6), In(2, 1, 3, 3), In(2));
            var fused = Out(1, 2, 2, 2); var fusedArgmax = Out(1, 2, 2, 2); b.Conv2dReluMaxPool2d(plane, fw, fb, fused, fusedArgmax, fg, fp);
            var fusedDw = Out(2, 1, 3, 3); var fusedDb = Out(2);
            b.Conv2dReluMaxPool2dGradWeight(plane, In(1, 2, 2, 2), fused, fusedArgmax, fusedDw, fusedDb, fg, fp);
        }
        // The input gradient straight from the pooled gradient (AVX-512, layers of 16 channels and more): 16 x 4 x 4 -> 2 x 2 x 2 -> 2 x 1 x 1.
        var sg = new ConvGeometry(1, 16, 4, 4, 2, 3, 3, 1, 1, 0, 0);
        var sp = new PoolGeometry(1, 2, 2, 2, 2, 2, 2, 2, 0, 0);
        if (b.FusesConv2dReluMaxPool2dGradInput(sg, sp))
        {
            var (sx, sw) = (In(1, 16, 4, 4), In(2, 16, 3, 3));
            var sz = Out(1, 2, 2, 2); b.Conv2d(sx, sw, In(2), sz, sg);
            var sy = Out(1, 2, 1, 1); var sArgmax = Out(1, 2, 1, 1); b.ReluMaxPool2d(sz, sy, sArgmax, sp);
            var sdx = Out(1, 16, 4, 4); b.Conv2dReluMaxPool2dGradInput(In(1, 2, 1, 1), sy, sArgmax, sw, sdx, sg, sp);
        }
        var avg = Out(1, 2, 2, 2); b.AvgPool2d(planes, avg, pg);
        var avgDx = Out(1, 2, 4, 4); b.AvgPool2dGrad(poolDy, avgDx, pg);

        const int batch = 2, hidden = 3;
        var (xl, hl, cl) = (In(batch, 4 * hidden), In(batch, 4 * hidden), In(batch, hidden));
        var state = Out(2, batch, hidden); b.LstmCell(xl, hl, cl, state, batch, hidden);
        var dGates = Out(batch, 4 * hidden); var dC = Out(batch, hidden);
        b.LstmCellGrad(xl, hl, cl, state, In(2, batch, hidden), dGates, dC, batch, hidden);
        var (xg, hg, hp) = (In(batch, 3 * hidden), In(batch, 3 * hidden), In(batch, hidden));
        var h = Out(batch, hidden); b.GruCell(xg, hg, hp, h, batch, hidden);
        var (dxg, dhg, dhp) = (Out(batch, 3 * hidden), Out(batch, 3 * hidden), Out(batch, hidden));
        b.GruCellGrad(xg, hg, hp, In(batch, hidden), dxg, dhg, dhp, batch, hidden);
        return [.. outputs];
    }

    [Fact]
    public void A_step_calling_every_kernel_replays_bit_for_bit_and_records_each_kind()
    {
        using var trace = TracedStep.Create("every kernel", EveryKernel, new TraceOptions { Verify = false });
        for (ulong call = 0; call < 4; call++)
        {
            var input = Tensor.RandN(new Generator(call + 1), [2048]);
            var expected = EveryKernel([input]);
            TraceAssert.BitEqual(expected, trace.Run(input), $"call {call + 1}, output");
        }
        var kinds = Enum.GetValues<KernelKind>().AsEnumerable();
        if (!Backends.CpuBackend.Instance.FusesConv2dReluMaxPool2d(new ConvGeometry(1, 1, 6, 6, 2, 3, 3, 1, 1, 0, 0), new PoolGeometry(1, 2, 4, 4, 2, 2, 2, 2, 0, 0)))
            kinds = kinds.Except([KernelKind.Conv2dReluMaxPool2d, KernelKind.Conv2dReluMaxPool2dGradWeight]);
        if (!Backends.CpuBackend.Instance.FusesConv2dReluMaxPool2dGradInput(new ConvGeometry(1, 16, 4, 4, 2, 3, 3, 1, 1, 0, 0), new PoolGeometry(1, 2, 2, 2, 2, 2, 2, 2, 0, 0)))
            kinds = kinds.Except([KernelKind.Conv2dReluMaxPool2dGradInput]);
        Assert.Equal(kinds, trace.RecordedKinds.Distinct().Order());
    }
}
