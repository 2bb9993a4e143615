using Lab.Core.Backends;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

/// <summary>
/// The device-graph hook, on the CPU: a stand-in device backend that captures graphs (it keeps the kernels launched
/// during capture as closures and runs them at Launch, as a CUDA graph does) replays a step bit for bit, with each
/// segment between host actions captured once and launched from then on, and no kernel but a constant's upload run outside a graph.
/// </summary>
public class GraphCaptureTests
{
    private sealed class CapturingBackend : IBackend, IGraphCapture
    {
        private static readonly CpuBackend Cpu = CpuBackend.Instance;
        private List<Action>? _capturing;

        public int KernelsRun, KernelsCaptured, Captures, Launches;
        /// <summary>Where the stand-in fails like a driver that refuses a graph: at BeginCapture, EndCapture or Launch.</summary>
        public string? FailAt;

        public void BeginCapture()
        {
            if (FailAt == "begin") throw new InvalidOperationException("stand-in: capture refused");
            Assert.Null(_capturing);
            _capturing = [];
            Captures++;
        }

        public ICapturedGraph EndCapture()
        {
            var graph = new Graph(this, [.. _capturing!]);
            _capturing = null;
            if (FailAt == "end") throw new InvalidOperationException("stand-in: capture invalidated");
            return graph;
        }

        private sealed class Graph(CapturingBackend owner, Action[] kernels) : ICapturedGraph
        {
            public void Launch()
            {
                if (owner.FailAt == "launch") throw new InvalidOperationException("stand-in: launch failed");
                owner.Launches++;
                foreach (var k in kernels) k();
            }

            public void Dispose() { }
        }

        private record struct View(Storage Storage, int Offset, int[] Shape)
        {
            public static View Of(in StorageView v) => new(v.Storage, v.Offset, v.Shape.ToArray());
            public readonly StorageView Get() => new(Storage, Offset, Shape);
        }

        /// <summary>Runs a kernel now, or, while capturing, keeps it for the graph.</summary>
        private void Kernel(Action run)
        {
            if (_capturing is not null) { _capturing.Add(run); KernelsCaptured++; }
            else { KernelsRun++; run(); }
        }

        private void NotInGraphs()
        {
            if (_capturing is not null) throw new NotSupportedException("This stand-in captures only the kernels of the test's step.");
            KernelsRun++;
        }

        public Device Device => Cpu.Device;
        public Storage Allocate(int length, bool zero) => Cpu.Allocate(length, zero);
        public void Upload(ReadOnlySpan<float> src, in StorageView dst) { NotInGraphs(); Cpu.Upload(src, dst); }
        public void Download(in StorageView src, Span<float> dst) => Cpu.Download(src, dst);

        public void Copy(in StorageView src, in StorageView dst) { var (s, d) = (View.Of(src), View.Of(dst)); Kernel(() => Cpu.Copy(s.Get(), d.Get())); }
        public void Fill(in StorageView dst, float value) { var d = View.Of(dst); Kernel(() => Cpu.Fill(d.Get(), value)); }
        public void Unary(UnaryOp op, in StorageView x, in StorageView y, float alpha = 0, float beta = 0)
        { var (a, c) = (View.Of(x), View.Of(y)); Kernel(() => Cpu.Unary(op, a.Get(), c.Get(), alpha, beta)); }
        public void UnaryGrad(UnaryOp op, in StorageView x, in StorageView y, in StorageView dy, in StorageView dx, float alpha = 0, float beta = 0)
        {
            var (a, c, e, f) = (View.Of(x), View.Of(y), View.Of(dy), View.Of(dx));
            Kernel(() => Cpu.UnaryGrad(op, a.Get(), c.Get(), e.Get(), f.Get(), alpha, beta));
        }
        public void Binary(BinaryOp op, in StorageView a, in StorageView b, in StorageView y)
        { var (p, q, r) = (View.Of(a), View.Of(b), View.Of(y)); Kernel(() => Cpu.Binary(op, p.Get(), q.Get(), r.Get())); }
        public void Axpy(float alpha, in StorageView x, in StorageView y) { var (p, q) = (View.Of(x), View.Of(y)); Kernel(() => Cpu.Axpy(alpha, p.Get(), q.Get())); }
        public void Reduce(ReduceOp op, in StorageView x, int outer, int n, int inner, in StorageView y)
        { var (p, q) = (View.Of(x), View.Of(y)); Kernel(() => Cpu.Reduce(op, p.Get(), outer, n, inner, q.Get())); }
        public void MatMul(in StorageView a, bool transA, long strideA, in StorageView b, bool transB, long strideB, in StorageView c, int batch, int m, int n, int k, float beta)
        {
            var (p, q, r) = (View.Of(a), View.Of(b), View.Of(c));
            Kernel(() => Cpu.MatMul(p.Get(), transA, strideA, q.Get(), transB, strideB, r.Get(), batch, m, n, k, beta));
        }

        // The rest run eagerly only (the test's step does not use them inside a graph).
        public void Where(in StorageView cond, in StorageView a, in StorageView b, in StorageView y) { NotInGraphs(); Cpu.Where(cond, a, b, y); }
        public void Softmax(in StorageView x, in StorageView y, int outer, int n, int inner, bool log) { NotInGraphs(); Cpu.Softmax(x, y, outer, n, inner, log); }
        public void SoftmaxGrad(in StorageView y, in StorageView dy, in StorageView dx, int outer, int n, int inner, bool log) { NotInGraphs(); Cpu.SoftmaxGrad(y, dy, dx, outer, n, inner, log); }
        public void Permute(in StorageView x, ReadOnlySpan<int> perm, in StorageView y) { NotInGraphs(); Cpu.Permute(x, perm, y); }
        public void CopyBlocks(in StorageView src, int srcOffset, int srcStride, in StorageView dst, int dstOffset, int dstStride, int rows, int cols, bool accumulate)
        { NotInGraphs(); Cpu.CopyBlocks(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, cols, accumulate); }
        public void IndexSelect(in StorageView x, in StorageView index, in StorageView y, int outer, int n, int inner) { NotInGraphs(); Cpu.IndexSelect(x, index, y, outer, n, inner); }
        public void IndexAdd(in StorageView dy, in StorageView index, in StorageView dx, int outer, int n, int inner) { NotInGraphs(); Cpu.IndexAdd(dy, index, dx, outer, n, inner); }
        public void Gather(in StorageView x, in StorageView index, in StorageView y, int rows, int n) { NotInGraphs(); Cpu.Gather(x, index, y, rows, n); }
        public void ScatterAdd(in StorageView dy, in StorageView index, in StorageView dx, int rows, int n) { NotInGraphs(); Cpu.ScatterAdd(dy, index, dx, rows, n); }
        public void AdamStep(in StorageView param, in StorageView grad, in StorageView m, in StorageView v, in StorageView maxV, in AdamArgs args) { NotInGraphs(); Cpu.AdamStep(param, grad, m, v, maxV, args); }
        public void SgdStep(in StorageView param, in StorageView grad, in StorageView velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay)
        { NotInGraphs(); Cpu.SgdStep(param, grad, velocity, lr, momentum, gradScale, nesterov, weightDecay); }
        public void RmsPropStep(in StorageView param, in StorageView grad, in StorageView square, in StorageView gradAverage, in StorageView momentumBuffer, float lr, float rho, float eps, float momentum, float weightDecay)
        { NotInGraphs(); Cpu.RmsPropStep(param, grad, square, gradAverage, momentumBuffer, lr, rho, eps, momentum, weightDecay); }
        public void SumOfSquares(in StorageView x, in StorageView result) { NotInGraphs(); Cpu.SumOfSquares(x, result); }
        public void LayerNorm(in StorageView x, in StorageView y, in StorageView rstd, int rows, int n, float eps) { NotInGraphs(); Cpu.LayerNorm(x, y, rstd, rows, n, eps); }
        public void LayerNormGrad(in StorageView y, in StorageView rstd, in StorageView dy, in StorageView dx, int rows, int n) { NotInGraphs(); Cpu.LayerNormGrad(y, rstd, dy, dx, rows, n); }
        public void Conv2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in ConvGeometry g) { NotInGraphs(); Cpu.Conv2d(x, w, bias, y, g); }
        public void Conv2dGradInput(in StorageView dy, in StorageView w, in StorageView dx, in ConvGeometry g) { NotInGraphs(); Cpu.Conv2dGradInput(dy, w, dx, g); }
        public void Conv2dGradWeight(in StorageView x, in StorageView dy, in StorageView dw, in ConvGeometry g) { NotInGraphs(); Cpu.Conv2dGradWeight(x, dy, dw, g); }
        public void ChannelSum(in StorageView dy, in StorageView db, int n, int channels, int spatial) { NotInGraphs(); Cpu.ChannelSum(dy, db, n, channels, spatial); }
        public void MaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g) { NotInGraphs(); Cpu.MaxPool2d(x, y, indices, g); }
        public void MaxPool2dGrad(in StorageView dy, in StorageView indices, in StorageView dx, in PoolGeometry g) { NotInGraphs(); Cpu.MaxPool2dGrad(dy, indices, dx, g); }
        public void MaxPool2dGather(in StorageView x, in StorageView indices, in StorageView y, in PoolGeometry g) { NotInGraphs(); Cpu.MaxPool2dGather(x, indices, y, g); }
        public void AvgPool2d(in StorageView x, in StorageView y, in PoolGeometry g) { NotInGraphs(); Cpu.AvgPool2d(x, y, g); }
        public void AvgPool2dGrad(in StorageView dy, in StorageView dx, in PoolGeometry g) { NotInGraphs(); Cpu.AvgPool2dGrad(dy, dx, g); }
        public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden) { NotInGraphs(); Cpu.LstmCell(xProj, hProj, cPrev, state, batch, hidden); }
        public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
        { NotInGraphs(); Cpu.LstmCellGrad(xProj, hProj, cPrev, state, dState, dGates, dCPrev, batch, hidden); }
        public void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden) { NotInGraphs(); Cpu.GruCell(xProj, hProj, hPrev, h, batch, hidden); }
        public void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj, in StorageView dHProj, in StorageView dHPrev, int batch, int hidden)
        { NotInGraphs(); Cpu.GruCellGrad(xProj, hProj, hPrev, dh, dXProj, dHProj, dHPrev, batch, hidden); }
    }

    private sealed class Setup
    {
        public readonly Linear First = new(3, 8, Activation.Tanh, generator: new Generator(1));
        public readonly Linear Second = new(8, 2, generator: new Generator(2));
        public readonly Sgd Optimizer;

        public Setup() => Optimizer = new Sgd(First.Parameters().Concat(Second.Parameters()), lr: 0.1f, momentum: 0.9f);

        /// <summary>Two updates per step (two segments of kernels, each ended by a host action), then a forward pass.</summary>
        public Tensor[] Step(Tensor[] inputs)
        {
            var (x, y) = (inputs[0], inputs[1]);
            var half = Tensor.FromArray([0.5f]);   // a constant: its upload runs outside the graphs
            for (int k = 0; k < 2; k++)
            {
                Optimizer.ZeroGrad();
                var d = Second.Call(First.Call(x)) - y;
                (d * d).Mean().Backward();
                Optimizer.Step();
            }
            return [(Second.Call(First.Call(x)) - y).Abs().Sum() * half];
        }
    }

    [Fact]
    public void Segments_between_host_actions_are_captured_once_and_launched_at_every_replay()
    {
        var device = new CapturingBackend();
        var (eager, traced) = (new Setup(), new Setup());
        using var step = TracedStep.Create("graphs", traced.Step, new TraceOptions { WrapDevice = _ => device });
        var g = new Generator(3);
        for (int call = 1; call <= 5; call++)
        {
            var (x, y) = (Tensor.RandN(g, [4, 3]), Tensor.RandN(g, [4, 2]));
            TraceAssert.BitEqual(eager.Step([x, y]), step.Run(x, y), $"call {call}, output");
            TraceAssert.BitEqual(eager.First.Parameters().Concat(eager.Second.Parameters()), traced.First.Parameters().Concat(traced.Second.Parameters()), $"call {call}, parameter");
            if (call == 2)
            {
                // The recording ran the kernels eagerly through the stand-in; nothing was captured yet.
                Assert.True(device.KernelsRun > 0);
                Assert.Equal(0, device.Captures);
                device.KernelsRun = 0;
            }
        }
        // Three segments (before each update, then the last forward pass), captured at call 3 and launched at calls 3, 4, 5.
        Assert.Equal(3, device.Captures);
        Assert.Equal(3, step.CapturedGraphs);
        Assert.Equal(9, device.Launches);
        Assert.Equal(3, device.KernelsRun);   // the upload, at calls 3, 4 and 5
        Assert.Equal(step.RecordedKernelCalls - 1, device.KernelsCaptured);   // all but the constant's upload
        Assert.Equal(0, step.FusedChains);   // fusion is for the CPU's own kernels; a device graph does that job
    }

    [Fact]
    public void Without_device_graphs_the_kernels_run_one_by_one()
    {
        var device = new CapturingBackend();
        var s = new Setup();
        using var step = TracedStep.Create("no graphs", s.Step, new TraceOptions { WrapDevice = _ => device, DeviceGraphs = false });
        var (x, y) = (Tensor.RandN(new Generator(3), [4, 3]), Tensor.RandN(new Generator(4), [4, 2]));
        for (int call = 0; call < 4; call++) step.Run(x, y);
        Assert.Equal(0, device.Captures);
        Assert.Equal(2 * step.RecordedKernelCalls, device.KernelsRun - step.RecordedKernelCalls);
    }

    [Theory]
    [InlineData("begin", "capture refused")]
    [InlineData("end", "capture invalidated")]
    [InlineData("launch", "launch failed")]
    public void A_graph_the_device_refuses_falls_back_to_kernels_one_by_one_with_the_same_results_and_the_reason(string failAt, string reason)
    {
        var device = new CapturingBackend { FailAt = failAt };
        var (eager, traced) = (new Setup(), new Setup());
        using var step = TracedStep.Create("refused", traced.Step, new TraceOptions { WrapDevice = _ => device });
        var g = new Generator(5);
        for (int call = 1; call <= 5; call++)
        {
            var (x, y) = (Tensor.RandN(g, [4, 3]), Tensor.RandN(g, [4, 2]));
            TraceAssert.BitEqual(eager.Step([x, y]), step.Run(x, y), $"call {call}, output");
            TraceAssert.BitEqual(eager.First.Parameters().Concat(eager.Second.Parameters()), traced.First.Parameters().Concat(traced.Second.Parameters()), $"call {call}, parameter");
        }
        Assert.Equal(0, step.CapturedGraphs);
        Assert.Equal(0, device.Launches);
        // Each of the three segments tried once (at call 3) and then gave up graphs for good.
        Assert.Equal(failAt == "begin" ? 0 : 3, device.Captures);
        Assert.Contains(reason, step.DeviceGraphFailure);
        Assert.Contains("Device graphs given up, kernels replayed one by one: InvalidOperationException: stand-in: " + reason, step.Describe());
    }
}
