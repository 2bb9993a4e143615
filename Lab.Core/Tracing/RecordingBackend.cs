using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>
/// Stands in for a device's backend while a step is recorded: every call runs on the real backend at once (the
/// recording run is an ordinary eager step) and is appended to the recording as a <see cref="KernelEntry"/>.
/// </summary>
internal sealed class RecordingBackend(Recording recording, IBackend inner) : IBackend
{
    /// <summary>The backend the recorded calls go to (and replay on).</summary>
    public IBackend Inner { get; } = inner;

    /// <summary>The backend the ops resolved (Inner, unless a test wraps the device).</summary>
    public IBackend? Source { get; init; }

    public Device Device => Inner.Device;

    private KernelEntry Add(KernelKind kind, params Operand[] views)
    {
        var entry = new KernelEntry(Inner, kind, views);
        recording.Add(entry);
        return entry;
    }

    private static Operand O(in StorageView v) => new(v);

    /// <summary>
    /// <see cref="SideBySide.Run"/> while recording: on the CPU each part runs now (one after the other) into a list of
    /// its own, and the lists become one <see cref="SideBySideEntry"/>; on other backends the parts are recorded in turn.
    /// </summary>
    public unsafe void RecordSideBySide(int parts, delegate*<void*, int, IBackend, void> body, void* state)
    {
        int before = recording.Entries.Count;
        if (Inner is not CpuBackend || parts < 2)
        {
            for (int p = 0; p < parts; p++) body(state, p, this);
            return;
        }
        var lists = new TraceEntry[parts][];
        for (int p = 0; p < parts; p++)
        {
            var part = new Recording(recording.Name);
            body(state, p, new RecordingBackend(part, Inner) { Source = Source });
            lists[p] = [.. part.Entries];
        }
        if (recording.Entries.Count != before)
            throw new InvalidOperationException($"TracedStep '{recording.Name}': a side-by-side part ran a host action or an op of its own; its parts may only call kernels on the backend they are given.");
        recording.Add(new SideBySideEntry(Inner, lists));
    }

    /// <summary>A zeroed allocation is zeroed again at every replay (a kernel may accumulate into it).</summary>
    public Storage Allocate(int length, bool zero)
    {
        var storage = Inner.Allocate(length, zero);
        if (zero && length > 0) Add(KernelKind.Fill, new Operand(storage, 0, [length])).F = [0f];
        return storage;
    }

    public void Upload(ReadOnlySpan<float> src, in StorageView dst)
    {
        Inner.Upload(src, dst);
        Add(KernelKind.Upload, O(dst)).Data = src.ToArray();
    }

    public void Download(in StorageView src, Span<float> dst) => throw recording.ReadError();

    public void Copy(in StorageView src, in StorageView dst) { Inner.Copy(src, dst); Add(KernelKind.Copy, O(src), O(dst)); }

    public void Fill(in StorageView dst, float value) { Inner.Fill(dst, value); Add(KernelKind.Fill, O(dst)).F = [value]; }

    public void Unary(UnaryOp op, in StorageView x, in StorageView y, float alpha = 0, float beta = 0)
    {
        Inner.Unary(op, x, y, alpha, beta);
        var e = Add(KernelKind.Unary, O(x), O(y));
        (e.I, e.F) = ([(long)op], [alpha, beta]);
    }

    public void UnaryGrad(UnaryOp op, in StorageView x, in StorageView y, in StorageView dy, in StorageView dx, float alpha = 0, float beta = 0)
    {
        Inner.UnaryGrad(op, x, y, dy, dx, alpha, beta);
        var e = Add(KernelKind.UnaryGrad, O(x), O(y), O(dy), O(dx));
        (e.I, e.F) = ([(long)op], [alpha, beta]);
    }

    public void Binary(BinaryOp op, in StorageView a, in StorageView b, in StorageView y)
    {
        Inner.Binary(op, a, b, y);
        Add(KernelKind.Binary, O(a), O(b), O(y)).I = [(long)op];
    }

    public void Where(in StorageView cond, in StorageView a, in StorageView b, in StorageView y)
    {
        Inner.Where(cond, a, b, y);
        Add(KernelKind.Where, O(cond), O(a), O(b), O(y));
    }

    public void Axpy(float alpha, in StorageView x, in StorageView y) { Inner.Axpy(alpha, x, y); Add(KernelKind.Axpy, O(x), O(y)).F = [alpha]; }

    public void Reduce(ReduceOp op, in StorageView x, int outer, int n, int inner, in StorageView y)
    {
        Inner.Reduce(op, x, outer, n, inner, y);
        Add(KernelKind.Reduce, O(x), O(y)).I = [(long)op, outer, n, inner];
    }

    public void Softmax(in StorageView x, in StorageView y, int outer, int n, int inner, bool log)
    {
        Inner.Softmax(x, y, outer, n, inner, log);
        Add(KernelKind.Softmax, O(x), O(y)).I = [outer, n, inner, log ? 1 : 0];
    }

    public void SoftmaxGrad(in StorageView y, in StorageView dy, in StorageView dx, int outer, int n, int inner, bool log)
    {
        Inner.SoftmaxGrad(y, dy, dx, outer, n, inner, log);
        Add(KernelKind.SoftmaxGrad, O(y), O(dy), O(dx)).I = [outer, n, inner, log ? 1 : 0];
    }

    public void MatMul(in StorageView a, bool transA, long strideA, in StorageView b, bool transB, long strideB,
        in StorageView c, int batch, int m, int n, int k, float beta)
    {
        Inner.MatMul(a, transA, strideA, b, transB, strideB, c, batch, m, n, k, beta);
        var e = Add(KernelKind.MatMul, O(a), O(b), O(c));
        (e.I, e.F) = ([transA ? 1 : 0, strideA, transB ? 1 : 0, strideB, batch, m, n, k], [beta]);
    }

    public void Permute(in StorageView x, ReadOnlySpan<int> perm, in StorageView y)
    {
        Inner.Permute(x, perm, y);
        var ints = new long[perm.Length];
        for (int i = 0; i < ints.Length; i++) ints[i] = perm[i];
        Add(KernelKind.Permute, O(x), O(y)).I = ints;
    }

    public void CopyBlocks(in StorageView src, int srcOffset, int srcStride, in StorageView dst, int dstOffset, int dstStride,
        int rows, int cols, bool accumulate)
    {
        Inner.CopyBlocks(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, cols, accumulate);
        Add(KernelKind.CopyBlocks, O(src), O(dst)).I = [srcOffset, srcStride, dstOffset, dstStride, rows, cols, accumulate ? 1 : 0];
    }

    public void IndexSelect(in StorageView x, in StorageView index, in StorageView y, int outer, int n, int inner)
    {
        Inner.IndexSelect(x, index, y, outer, n, inner);
        Add(KernelKind.IndexSelect, O(x), O(index), O(y)).I = [outer, n, inner];
    }

    public void IndexAdd(in StorageView dy, in StorageView index, in StorageView dx, int outer, int n, int inner)
    {
        Inner.IndexAdd(dy, index, dx, outer, n, inner);
        Add(KernelKind.IndexAdd, O(dy), O(index), O(dx)).I = [outer, n, inner];
    }

    public void Gather(in StorageView x, in StorageView index, in StorageView y, int rows, int n)
    {
        Inner.Gather(x, index, y, rows, n);
        Add(KernelKind.Gather, O(x), O(index), O(y)).I = [rows, n];
    }

    public void ScatterAdd(in StorageView dy, in StorageView index, in StorageView dx, int rows, int n)
    {
        Inner.ScatterAdd(dy, index, dx, rows, n);
        Add(KernelKind.ScatterAdd, O(dy), O(index), O(dx)).I = [rows, n];
    }

    public void AdamStep(in StorageView param, in StorageView grad, in StorageView m, in StorageView v, in StorageView maxV, in AdamArgs args)
    {
        Inner.AdamStep(param, grad, m, v, maxV, args);
        Add(KernelKind.AdamStep, O(param), O(grad), O(m), O(v), O(maxV)).Adam = args;
    }

    public void SgdStep(in StorageView param, in StorageView grad, in StorageView velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay)
    {
        Inner.SgdStep(param, grad, velocity, lr, momentum, gradScale, nesterov, weightDecay);
        var e = Add(KernelKind.SgdStep, O(param), O(grad), O(velocity));
        (e.I, e.F) = ([nesterov ? 1 : 0], [lr, momentum, gradScale, weightDecay]);
    }

    public void RmsPropStep(in StorageView param, in StorageView grad, in StorageView square, in StorageView gradAverage, in StorageView momentumBuffer,
        float lr, float rho, float eps, float momentum, float weightDecay)
    {
        Inner.RmsPropStep(param, grad, square, gradAverage, momentumBuffer, lr, rho, eps, momentum, weightDecay);
        Add(KernelKind.RmsPropStep, O(param), O(grad), O(square), O(gradAverage), O(momentumBuffer)).F = [lr, rho, eps, momentum, weightDecay];
    }

    public void SumOfSquares(in StorageView x, in StorageView result) { Inner.SumOfSquares(x, result); Add(KernelKind.SumOfSquares, O(x), O(result)); }

    public void LayerNorm(in StorageView x, in StorageView y, in StorageView rstd, int rows, int n, float eps)
    {
        Inner.LayerNorm(x, y, rstd, rows, n, eps);
        var e = Add(KernelKind.LayerNorm, O(x), O(y), O(rstd));
        (e.I, e.F) = ([rows, n], [eps]);
    }

    public void LayerNormGrad(in StorageView y, in StorageView rstd, in StorageView dy, in StorageView dx, int rows, int n)
    {
        Inner.LayerNormGrad(y, rstd, dy, dx, rows, n);
        Add(KernelKind.LayerNormGrad, O(y), O(rstd), O(dy), O(dx)).I = [rows, n];
    }

    /// <summary>A capability query, not a kernel: the recorded step takes the path the eager one takes.</summary>
    public bool FusesBatchNorm => Inner.FusesBatchNorm;

    public void BatchNormTrain(in StorageView x, in StorageView weight, in StorageView bias, in StorageView y, in StorageView mean, in StorageView invStd,
        in StorageView runningMean, in StorageView runningVar, int n, int channels, int spatial, float momentum, float eps)
    {
        Inner.BatchNormTrain(x, weight, bias, y, mean, invStd, runningMean, runningVar, n, channels, spatial, momentum, eps);
        var e = Add(KernelKind.BatchNormTrain, O(x), O(weight), O(bias), O(y), O(mean), O(invStd), O(runningMean), O(runningVar));
        (e.I, e.F) = ([n, channels, spatial], [momentum, eps]);
    }

    public void BatchNormEval(in StorageView x, in StorageView runningMean, in StorageView runningVar, in StorageView weight, in StorageView bias,
        in StorageView y, int n, int channels, int spatial, float eps)
    {
        Inner.BatchNormEval(x, runningMean, runningVar, weight, bias, y, n, channels, spatial, eps);
        var e = Add(KernelKind.BatchNormEval, O(x), O(runningMean), O(runningVar), O(weight), O(bias), O(y));
        (e.I, e.F) = ([n, channels, spatial], [eps]);
    }

    public void BatchNormGrad(in StorageView x, in StorageView dy, in StorageView mean, in StorageView invStd, in StorageView weight,
        in StorageView dx, in StorageView dWeight, in StorageView dBias, int n, int channels, int spatial)
    {
        Inner.BatchNormGrad(x, dy, mean, invStd, weight, dx, dWeight, dBias, n, channels, spatial);
        Add(KernelKind.BatchNormGrad, O(x), O(dy), O(mean), O(invStd), O(weight), O(dx), O(dWeight), O(dBias)).I = [n, channels, spatial];
    }

    public void Conv2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in ConvGeometry g)
    {
        Inner.Conv2d(x, w, bias, y, g);
        Add(KernelKind.Conv2d, O(x), O(w), O(bias), O(y)).Conv = g;
    }

    public void Conv2dGradInput(in StorageView dy, in StorageView w, in StorageView dx, in ConvGeometry g)
    {
        Inner.Conv2dGradInput(dy, w, dx, g);
        Add(KernelKind.Conv2dGradInput, O(dy), O(w), O(dx)).Conv = g;
    }

    public void Conv2dGradWeight(in StorageView x, in StorageView dy, in StorageView dw, in ConvGeometry g)
    {
        Inner.Conv2dGradWeight(x, dy, dw, g);
        Add(KernelKind.Conv2dGradWeight, O(x), O(dy), O(dw)).Conv = g;
    }

    public void ChannelSum(in StorageView dy, in StorageView db, int n, int channels, int spatial)
    {
        Inner.ChannelSum(dy, db, n, channels, spatial);
        Add(KernelKind.ChannelSum, O(dy), O(db)).I = [n, channels, spatial];
    }

    public void MaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        Inner.MaxPool2d(x, y, indices, g);
        Add(KernelKind.MaxPool2d, O(x), O(y), O(indices)).Pool = g;
    }

    public void MaxPool2dGrad(in StorageView dy, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        Inner.MaxPool2dGrad(dy, indices, dx, g);
        Add(KernelKind.MaxPool2dGrad, O(dy), O(indices), O(dx)).Pool = g;
    }

    public void MaxPool2dGather(in StorageView x, in StorageView indices, in StorageView y, in PoolGeometry g)
    {
        Inner.MaxPool2dGather(x, indices, y, g);
        Add(KernelKind.MaxPool2dGather, O(x), O(indices), O(y)).Pool = g;
    }

    public void ReluMaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        Inner.ReluMaxPool2d(x, y, indices, g);
        Add(KernelKind.ReluMaxPool2d, O(x), O(y), O(indices)).Pool = g;
    }

    public void ReluMaxPool2dGrad(in StorageView dy, in StorageView y, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        Inner.ReluMaxPool2dGrad(dy, y, indices, dx, g);
        Add(KernelKind.ReluMaxPool2dGrad, O(dy), O(y), O(indices), O(dx)).Pool = g;
    }

    /// <summary>A capability query, not a kernel: the recorded step takes the path the eager one takes.</summary>
    public bool FusesConv2dReluMaxPool2d(in ConvGeometry conv, in PoolGeometry pool) => Inner.FusesConv2dReluMaxPool2d(conv, pool);

    public void Conv2dReluMaxPool2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in StorageView indices,
        in ConvGeometry conv, in PoolGeometry pool)
    {
        Inner.Conv2dReluMaxPool2d(x, w, bias, y, indices, conv, pool);
        var e = Add(KernelKind.Conv2dReluMaxPool2d, O(x), O(w), O(bias), O(y), O(indices));
        (e.Conv, e.Pool) = (conv, pool);
    }

    /// <summary>A capability query, not a kernel.</summary>
    public bool FusesConv2dReluMaxPool2dGradWeight(in ConvGeometry conv, in PoolGeometry pool) => Inner.FusesConv2dReluMaxPool2dGradWeight(conv, pool);

    public void Conv2dReluMaxPool2dGradWeight(in StorageView x, in StorageView dy, in StorageView y, in StorageView indices,
        in StorageView dw, in StorageView db, in ConvGeometry conv, in PoolGeometry pool)
    {
        Inner.Conv2dReluMaxPool2dGradWeight(x, dy, y, indices, dw, db, conv, pool);
        var e = Add(KernelKind.Conv2dReluMaxPool2dGradWeight, O(x), O(dy), O(y), O(indices), O(dw), O(db));
        (e.Conv, e.Pool) = (conv, pool);
    }

    /// <summary>A capability query, not a kernel.</summary>
    public bool FusesConv2dReluMaxPool2dGradInput(in ConvGeometry conv, in PoolGeometry pool) => Inner.FusesConv2dReluMaxPool2dGradInput(conv, pool);

    public void Conv2dReluMaxPool2dGradInput(in StorageView dy, in StorageView y, in StorageView indices, in StorageView w,
        in StorageView dx, in ConvGeometry conv, in PoolGeometry pool)
    {
        Inner.Conv2dReluMaxPool2dGradInput(dy, y, indices, w, dx, conv, pool);
        var e = Add(KernelKind.Conv2dReluMaxPool2dGradInput, O(dy), O(y), O(indices), O(w), O(dx));
        (e.Conv, e.Pool) = (conv, pool);
    }

    public void AvgPool2d(in StorageView x, in StorageView y, in PoolGeometry g) { Inner.AvgPool2d(x, y, g); Add(KernelKind.AvgPool2d, O(x), O(y)).Pool = g; }

    public void AvgPool2dGrad(in StorageView dy, in StorageView dx, in PoolGeometry g) { Inner.AvgPool2dGrad(dy, dx, g); Add(KernelKind.AvgPool2dGrad, O(dy), O(dx)).Pool = g; }

    public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden)
    {
        Inner.LstmCell(xProj, hProj, cPrev, state, batch, hidden);
        Add(KernelKind.LstmCell, O(xProj), O(hProj), O(cPrev), O(state)).I = [batch, hidden];
    }

    public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState,
        in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
    {
        Inner.LstmCellGrad(xProj, hProj, cPrev, state, dState, dGates, dCPrev, batch, hidden);
        Add(KernelKind.LstmCellGrad, O(xProj), O(hProj), O(cPrev), O(state), O(dState), O(dGates), O(dCPrev)).I = [batch, hidden];
    }

    public void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden)
    {
        Inner.GruCell(xProj, hProj, hPrev, h, batch, hidden);
        Add(KernelKind.GruCell, O(xProj), O(hProj), O(hPrev), O(h)).I = [batch, hidden];
    }

    public void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj,
        in StorageView dHProj, in StorageView dHPrev, int batch, int hidden)
    {
        Inner.GruCellGrad(xProj, hProj, hPrev, dh, dXProj, dHProj, dHPrev, batch, hidden);
        Add(KernelKind.GruCellGrad, O(xProj), O(hProj), O(hPrev), O(dh), O(dXProj), O(dHProj), O(dHPrev)).I = [batch, hidden];
    }
}
