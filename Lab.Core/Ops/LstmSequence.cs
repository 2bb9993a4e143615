using Lab.Core.Autodiff;
using Lab.Core.Backends;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// A whole LSTM layer's recurrence as one op: from the input projections <paramref name="projected"/> [T, B, 4H]
    /// (x W + b, time-major), the recurrent kernel [H, 4H] and the initial state [2, B, H] (h, c), each step s takes
    /// t = s (t = T - 1 - s with <paramref name="goBackwards"/>), a = projected[t] + h U and the <see cref="LstmCell"/>
    /// equations. With a mask [T, B] (time-major, non-zero = kept) a masked sample keeps its state, and its output is
    /// zero (<paramref name="zeroOutputForMask"/>) or repeats its previous output (zeros before the first), as
    /// <see cref="Nn.RecurrentLayer"/> does. Returns [T + 2, B, H]: the outputs of the steps (step s at s, or at t with
    /// <paramref name="outputInInputOrder"/>), then the final h and c.
    /// </summary>
    /// <remarks>
    /// The same result as the layer's step loop (a MatMul, a LstmCell, two Where, a Select per step), with one node
    /// instead of about ten per step: the backward runs the steps in reverse in one call, keeps no per-step gradient
    /// tensors, and forms dU as one GEMM over all steps (Σ h_sᵀ da_s) instead of T small ones. Under createGraph the
    /// backward is written out in differentiable ops on a recomputed forward, so gradients of any order are right.
    /// </remarks>
    internal static Tensor LstmSequence(Tensor projected, Tensor recurrentKernel, Tensor initial, Tensor? mask,
        bool goBackwards, bool zeroOutputForMask, bool outputInInputOrder)
        => LstmSequenceNode.Apply(projected, recurrentKernel, initial, mask, goBackwards, zeroOutputForMask, outputInInputOrder);

    /// <summary>
    /// Two <see cref="LstmSequence"/>s over one mask in one op (Bidirectional's directions, of one width): [2, T + 2, B, H],
    /// each direction's rows at its index. On the CPU the two run side by side on two threads, forward and backward.
    /// </summary>
    internal static Tensor LstmSequencePair(Tensor projected0, Tensor recurrentKernel0, Tensor initial0, bool goBackwards0, bool outputInInputOrder0,
        Tensor projected1, Tensor recurrentKernel1, Tensor initial1, bool goBackwards1, bool outputInInputOrder1, Tensor? mask, bool zeroOutputForMask)
        => LstmSequenceNode.ApplyPair(projected0, recurrentKernel0, initial0, goBackwards0, outputInInputOrder0,
            projected1, recurrentKernel1, initial1, goBackwards1, outputInInputOrder1, mask, zeroOutputForMask);
}

internal sealed class LstmSequenceNode : PooledNode<LstmSequenceNode>
{
    // One direction, or two (a Bidirectional's pair, run side by side on two threads where the CPU has them).
    private readonly Direction[] _all = [new(), new()];
    private int _count;

    public LstmSequenceNode() { }

    private protected override void ClearSaved()
    {
        foreach (var d in _all) d.Clear();
    }

    public static Tensor Apply(Tensor projected, Tensor kernel, Tensor initial, Tensor? mask, bool goBackwards, bool zeroOutput, bool inInputOrder)
    {
        var (steps, batch, hidden) = Check(projected, kernel, initial, mask);
        var y = Tensor.Empty([steps + 2, batch, hidden], projected.Device);
        var node = NodePool<LstmSequenceNode>.Rent();
        node._count = 1;
        var d = node._all[0];
        d.Prepare(projected, kernel, initial, mask, goBackwards, zeroOutput, inInputOrder, y, 0);
        d.Forward();
        Anomaly.Check("LstmSequence", y);
        if (Tensor.ShouldRecord(projected, kernel) || Tensor.ShouldRecord(initial))
        {
            node.SetInputs(projected, kernel, initial);
            y.Record(node);
        }
        else d.Clear();   // the scope recycles the node; nothing should stay alive through it meanwhile
        return y;
    }

    /// <summary>
    /// Two directions over one mask in one op (Bidirectional): [2, T + 2, B, H], the first direction's rows then the
    /// second's. Forward and backward run the two on two threads when the CPU backend has a second core free.
    /// </summary>
    public static Tensor ApplyPair(Tensor projected0, Tensor kernel0, Tensor initial0, bool goBackwards0, bool inInputOrder0,
        Tensor projected1, Tensor kernel1, Tensor initial1, bool goBackwards1, bool inInputOrder1, Tensor? mask, bool zeroOutput)
    {
        var (steps, batch, hidden) = Check(projected0, kernel0, initial0, mask);
        if (!projected1.Shape.SequenceEqual(projected0.Shape))
            throw new ArgumentException($"LstmSequence: a pair needs projections of one shape, got {ShapeUtil.Format(projected0.Shape)} and {ShapeUtil.Format(projected1.Shape)}.");
        Check(projected1, kernel1, initial1, mask);
        var y = Tensor.Empty([2, steps + 2, batch, hidden], projected0.Device);
        var node = NodePool<LstmSequenceNode>.Rent();
        node._count = 2;
        node._all[0].Prepare(projected0, kernel0, initial0, mask, goBackwards0, zeroOutput, inInputOrder0, y, 0);
        node._all[1].Prepare(projected1, kernel1, initial1, mask, goBackwards1, zeroOutput, inInputOrder1, y, (steps + 2) * batch * hidden);
        node.RunBoth(forward: true);
        Anomaly.Check("LstmSequence", y);
        if (Tensor.ShouldRecord(projected0, kernel0) || Tensor.ShouldRecord(initial0) || Tensor.ShouldRecord(projected1, kernel1) || Tensor.ShouldRecord(initial1))
        {
            node.SetInputs([projected0, kernel0, initial0, projected1, kernel1, initial1]);
            y.Record(node);
        }
        else foreach (var d in node._all) d.Clear();
        return y;
    }

    /// <summary>
    /// Both directions' forward or backward loops, side by side (Tracing.SideBySide: on two threads through the CPU's
    /// worker pool, also in a traced step's replay; one after the other on other backends or a busy pool).
    /// </summary>
    private unsafe void RunBoth(bool forward)
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(this);
        try { Tracing.SideBySide.Run(_all[0].Backend, 2, forward ? &ForwardPart : &BackwardPart, (void*)System.Runtime.InteropServices.GCHandle.ToIntPtr(handle)); }
        finally { handle.Free(); }
    }

    private static unsafe LstmSequenceNode Of(void* state) => (LstmSequenceNode)System.Runtime.InteropServices.GCHandle.FromIntPtr((nint)state).Target!;

    private static unsafe void ForwardPart(void* state, int part, IBackend backend) => Of(state)._all[part].Forward(backend);

    private static unsafe void BackwardPart(void* state, int part, IBackend backend) => Of(state)._all[part].Backward(backend);

    private static int OutputIndex(int s, int t, bool inInputOrder) => inInputOrder ? t : s;

    /// <summary>A contiguous view of <paramref name="shape"/> at <paramref name="offset"/> elements into t.</summary>
    private static StorageView View(Tensor t, int offset, ReadOnlySpan<int> shape) => new(t.Storage, t.Offset + offset, ShapeUtil.Numel(shape), shape);

    private static (int Steps, int Batch, int Hidden) Check(Tensor projected, Tensor kernel, Tensor initial, Tensor? mask)
    {
        if (projected.Rank != 3 || projected.Shape[2] % 4 != 0 || projected.Shape[0] == 0)
            throw new ArgumentException($"LstmSequence: expected projections [steps, batch, 4 units] with at least one step, got {ShapeUtil.Format(projected.Shape)}.");
        int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
        if (kernel.Rank != 2 || kernel.Shape[0] != hidden || kernel.Shape[1] != 4 * hidden)
            throw new ArgumentException($"LstmSequence: expected a recurrent kernel [{hidden}, {4 * hidden}] for projections {ShapeUtil.Format(projected.Shape)}, got {ShapeUtil.Format(kernel.Shape)}.");
        if (initial.Rank != 3 || initial.Shape[0] != 2 || initial.Shape[1] != batch || initial.Shape[2] != hidden)
            throw new ArgumentException($"LstmSequence: expected an initial state [2, {batch}, {hidden}] (h, c), got {ShapeUtil.Format(initial.Shape)}.");
        if (mask is not null && (mask.Rank != 2 || mask.Shape[0] != steps || mask.Shape[1] != batch))
            throw new ArgumentException($"LstmSequence: expected a time-major mask [{steps}, {batch}], got {ShapeUtil.Format(mask.Shape)}.");
        if (kernel.Device != projected.Device || initial.Device != projected.Device || (mask is not null && mask.Device != projected.Device))
            throw new ArgumentException($"LstmSequence: operands on different devices ({projected.Device}, {kernel.Device}, {initial.Device}{(mask is null ? "" : $", {mask.Device}")}).");
        return (steps, batch, hidden);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        int rows = _all[0].Y!.Numel / _count;   // one direction's share of the output
        if (GradMode.IsEnabled)
        {
            var grads = GradBuffer(3 * _count);
            for (int k = 0; k < _count; k++)
            {
                var gk = _count == 1 ? g : g.Select(k);
                var (dp, du, di) = _all[k].BackwardInOps(gk, Inputs[3 * k], Inputs[3 * k + 1], Inputs[3 * k + 2]);
                (grads[3 * k], grads[3 * k + 1], grads[3 * k + 2]) = (Needs(3 * k) ? dp : null, Needs(3 * k + 1) ? du : null, Needs(3 * k + 2) ? di : null);
            }
            return grads;
        }
        for (int k = 0; k < _count; k++) _all[k].PrepareBackward(g, k * rows, Needs(3 * k + 1));
        if (_count == 2) RunBoth(forward: false);
        else _all[0].Backward();
        var result = GradBuffer(3 * _count);
        for (int k = 0; k < _count; k++)
        {
            var d = _all[k];
            (result[3 * k], result[3 * k + 1], result[3 * k + 2]) = (Needs(3 * k) ? d.DProjected : null, d.DKernel, Needs(3 * k + 2) ? d.DCarry : null);
        }
        return result;
    }

    /// <summary>
    /// One direction: its operands, options and buffers, all made on the calling thread (tensors belong to its scope),
    /// and its forward and backward loops, which only call kernels and so may run on a worker thread.
    /// </summary>
    private sealed class Direction
    {
        private Tensor? _projected, _kernel, _initial, _mask, _zero, _recurrent, _cells, _carries, _g;
        private Tensor? _dCell, _dState, _dOutput, _dStep, _dSum;
        private bool _goBackwards, _zeroOutput, _inInputOrder;
        private int _yOffset, _gOffset;

        public Tensor? Y { get; private set; }
        public Tensor? DProjected { get; private set; }
        public Tensor? DKernel { get; private set; }
        public Tensor? DCarry { get; private set; }
        public IBackend Backend => _projected!.Backend;

        public void Clear() => _projected = _kernel = _initial = _mask = _zero = _recurrent = _cells = _carries = _g = _dCell = _dState =
            _dOutput = _dStep = _dSum = Y = DProjected = DKernel = DCarry = null;

        public void Prepare(Tensor projected, Tensor kernel, Tensor initial, Tensor? mask, bool goBackwards, bool zeroOutput, bool inInputOrder, Tensor y, int yOffset)
        {
            (_projected, _kernel, _initial, _mask) = (projected, kernel, initial, mask);
            (_goBackwards, _zeroOutput, _inInputOrder, Y, _yOffset) = (goBackwards, zeroOutput, inInputOrder, y, yOffset);
            int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
            var device = projected.Device;
            // Saved for the backward (each at the step's input position t): the recurrent projections h U, the cell's
            // raw state [2, B, H] (h, c) before the mask, and the carried state before the step, h plane then c plane.
            _recurrent = Tensor.Empty([steps, batch, 4 * hidden], device);
            _cells = Tensor.Empty([steps, 2, batch, hidden], device);
            _carries = Tensor.Empty([2, steps, batch, hidden], device);
            _zero = mask is null ? null : Tensor.Scalar(0f, device);
        }

        public void Forward() => Forward(Backend);

        /// <summary>The forward loop, its kernels on <paramref name="be"/> (the part's backend when run side by side).</summary>
        public void Forward(IBackend be)
        {
            var (projected, kernel, y) = (_projected!, _kernel!, Y!);
            int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
            int plane = batch * hidden, all = steps * plane;
            Span<int> bh = [batch, hidden], b4h = [batch, 4 * hidden], state = [2, batch, hidden], keepShape = [batch, 1], none = [];

            int t0 = _goBackwards ? steps - 1 : 0;
            be.Copy(View(_initial!, 0, bh), View(_carries!, t0 * plane, bh));
            be.Copy(View(_initial!, plane, bh), View(_carries!, all + t0 * plane, bh));
            for (int s = 0; s < steps; s++)
            {
                int t = _goBackwards ? steps - 1 - s : s;
                var h = View(_carries!, t * plane, bh);
                var c = View(_carries!, all + t * plane, bh);
                var r = View(_recurrent!, t * 4 * plane, b4h);
                be.MatMul(h, false, 0, kernel, false, 0, r, 1, batch, 4 * hidden, hidden, 0f);
                var cellH = View(_cells!, t * 2 * plane, bh);
                var cellC = View(_cells!, (t * 2 + 1) * plane, bh);
                be.LstmCell(View(projected, t * 4 * plane, b4h), r, c, View(_cells!, t * 2 * plane, state), batch, hidden);

                int next = _goBackwards ? t - 1 : t + 1;
                var hNext = s + 1 < steps ? View(_carries!, next * plane, bh) : View(y, _yOffset + steps * plane, bh);
                var cNext = s + 1 < steps ? View(_carries!, all + next * plane, bh) : View(y, _yOffset + (steps + 1) * plane, bh);
                var output = View(y, _yOffset + OutputIndex(s, t, _inInputOrder) * plane, bh);
                if (_mask is null)
                {
                    be.Copy(cellH, hNext);
                    be.Copy(cellC, cNext);
                    be.Copy(cellH, output);
                    continue;
                }
                var keep = View(_mask, t * batch, keepShape);
                be.Where(keep, cellH, h, hNext);
                be.Where(keep, cellC, c, cNext);
                var previous = _zeroOutput || s == 0 ? View(_zero!, 0, none)
                    : View(y, _yOffset + OutputIndex(s - 1, _goBackwards ? t + 1 : t - 1, _inInputOrder) * plane, bh);
                be.Where(keep, cellH, previous, output);
            }
        }

        /// <summary>The backward's results and working buffers, made on the calling thread; g's rows for this direction start at gOffset.</summary>
        public void PrepareBackward(Tensor g, int gOffset, bool needsKernel)
        {
            var projected = _projected!;
            int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
            var device = g.Device;
            (_g, _gOffset) = (g, gOffset);
            DProjected = Tensor.Empty([steps, batch, 4 * hidden], device);
            DKernel = needsKernel ? Tensor.Empty([hidden, 4 * hidden], device) : null;
            // The carried state's gradient (dh, dc) and the cell's, swapped each step; dState is the cell's upstream gradient.
            DCarry = Tensor.Empty([2, batch, hidden], device);
            _dCell = Tensor.Empty([2, batch, hidden], device);
            _dState = Tensor.Empty([2, batch, hidden], device);
            bool chain = _mask is not null && !_zeroOutput;   // masked steps repeat the previous output: its gradient flows back
            _dOutput = chain ? Tensor.Zeros([batch, hidden], device) : null;
            _dStep = chain ? Tensor.Empty([batch, hidden], device) : null;
            _dSum = _mask is null ? null : Tensor.Empty([2, batch, hidden], device);
        }

        public void Backward() => Backward(Backend);

        /// <summary>The backward loop, its kernels on <paramref name="be"/> (the part's backend when run side by side).</summary>
        public void Backward(IBackend be)
        {
            var (projected, kernel, g) = (_projected!, _kernel!, _g!);
            int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
            int plane = batch * hidden, all = steps * plane;
            var (dProjected, dCarry, dCell, dState) = (DProjected!, DCarry!, _dCell!, _dState!);
            Span<int> bh = [batch, hidden], b4h = [batch, 4 * hidden], state = [2, batch, hidden], keepShape = [batch, 1], none = [];
            be.Copy(View(g, _gOffset + steps * plane, state), dCarry);

            for (int s = steps - 1; s >= 0; s--)
            {
                int t = _goBackwards ? steps - 1 - s : s;
                StorageView upstream = View(g, _gOffset + OutputIndex(s, t, _inInputOrder) * plane, bh);
                if (_dOutput is not null)
                {
                    be.Binary(BinaryOp.Add, upstream, _dOutput, _dStep);
                    upstream = _dStep;
                }
                // The cell's upstream gradient: the carried one plus the output's; zero for masked samples.
                var sum = _dSum ?? dState;
                be.Binary(BinaryOp.Add, View(dCarry, 0, bh), upstream, View(sum, 0, bh));
                be.Copy(View(dCarry, plane, bh), View(sum, plane, bh));
                if (_dSum is not null) be.Where(View(_mask!, t * batch, keepShape), _dSum, View(_zero!, 0, none), dState);

                var da = View(dProjected, t * 4 * plane, b4h);
                be.LstmCellGrad(View(projected, t * 4 * plane, b4h), View(_recurrent!, t * 4 * plane, b4h), View(_carries!, all + t * plane, bh),
                    View(_cells!, t * 2 * plane, state), dState, da, View(dCell, plane, bh), batch, hidden);
                be.MatMul(da, false, 0, kernel, true, 0, View(dCell, 0, bh), 1, batch, hidden, 4 * hidden, 0f);
                if (_mask is null)
                {
                    (dCarry, dCell) = (dCell, dCarry);
                    continue;
                }
                var keep = View(_mask, t * batch, keepShape);
                if (_dOutput is not null) be.Where(keep, View(_zero!, 0, none), upstream, _dOutput);
                // Masked samples pass the carried gradient through untouched.
                be.Where(keep, dCell, dCarry, dState);
                (dCarry, dState) = (dState, dCarry);
            }
            DCarry = dCarry;

            // dU = Σ_s h_sᵀ da_s: the carried h before every step against that step's da, both at position t.
            if (DKernel is not null)
                be.MatMul(View(_carries!, 0, [steps * batch, hidden]), true, 0, dProjected, false, 0, DKernel, 1, hidden, 4 * hidden, steps * batch, 0f);
        }

        /// <summary>
        /// The same backward in differentiable ops (createGraph): the forward is recomputed step by step from the inputs
        /// (so that the gradient's own dependence on them is recorded), then the steps run in reverse with the
        /// <see cref="LstmCellNode"/> rule, the carried gradient and the output chain as in the fused loop.
        /// </summary>
        public (Tensor DProjected, Tensor DKernel, Tensor DInitial) BackwardInOps(Tensor g, Tensor projected, Tensor kernel, Tensor initial)
        {
            int steps = projected.Shape[0], batch = projected.Shape[1];
            var hs = new Tensor[steps];
            var cs = new Tensor[steps];
            var rs = new Tensor[steps];
            var keeps = new Tensor?[steps];
            Tensor h = initial.Select(0), c = initial.Select(1);
            for (int s = 0; s < steps; s++)
            {
                int t = _goBackwards ? steps - 1 - s : s;
                (hs[s], cs[s]) = (h, c);
                rs[s] = Tensor.MatMul(h, kernel);
                var next = Tensor.LstmCell(projected.Select(t), rs[s], c);
                if (_mask is null) (h, c) = (next.Select(0), next.Select(1));
                else
                {
                    var keep = keeps[s] = _mask.Select(t).Reshape(batch, 1);
                    (h, c) = (Tensor.Where(keep, next.Select(0), h), Tensor.Where(keep, next.Select(1), c));
                }
            }

            var zero = Tensor.Scalar(0f, g.Device);
            Tensor dh = g.Select(steps), dc = g.Select(steps + 1);
            Tensor? dOutput = null, dKernel = null;
            var dProjected = new Tensor[steps];
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = _goBackwards ? steps - 1 - s : s;
                var upstream = g.Select(OutputIndex(s, t, _inInputOrder));
                if (dOutput is not null) upstream = upstream + dOutput;
                Tensor gh = dh + upstream, gc = dc;
                var keep = keeps[s];
                if (keep is not null) (gh, gc) = (Tensor.Where(keep, gh, zero), Tensor.Where(keep, gc, zero));
                var (da, dcCell) = LstmCellNode.GradientInOps(projected.Select(t), rs[s], cs[s], gh, gc);
                dProjected[t] = da.Unsqueeze(0);
                var step = Tensor.MatMul(hs[s], da, transposeA: true);
                dKernel = dKernel is null ? step : dKernel + step;
                var dhCell = Tensor.MatMul(da, kernel, transposeB: true);
                if (keep is null) (dh, dc) = (dhCell, dcCell);
                else
                {
                    (dh, dc) = (Tensor.Where(keep, dhCell, dh), Tensor.Where(keep, dcCell, dc));
                    if (!_zeroOutput) dOutput = Tensor.Where(keep, zero, upstream);
                }
            }
            return (Tensor.Concat(dProjected, 0), dKernel!, Tensor.Concat([dh.Unsqueeze(0), dc.Unsqueeze(0)], 0));
        }
    }
}
