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
}

internal sealed class LstmSequenceNode : PooledNode<LstmSequenceNode>
{
    private Tensor? _mask, _recurrent, _cells, _carries, _zero;
    private bool _goBackwards, _zeroOutput, _inInputOrder;

    public LstmSequenceNode() { }

    private protected override void ClearSaved() => _mask = _recurrent = _cells = _carries = _zero = null;

    public static Tensor Apply(Tensor projected, Tensor kernel, Tensor initial, Tensor? mask, bool goBackwards, bool zeroOutput, bool inInputOrder)
    {
        var (steps, batch, hidden) = Check(projected, kernel, initial, mask);
        var be = projected.Backend;
        var device = projected.Device;
        var y = Tensor.Empty([steps + 2, batch, hidden], device);
        // Saved for the backward (each at the step's input position t): the recurrent projections h U, the cell's
        // raw state [2, B, H] (h, c) before the mask, and the carried state before the step, h plane then c plane.
        var recurrent = Tensor.Empty([steps, batch, 4 * hidden], device);
        var cells = Tensor.Empty([steps, 2, batch, hidden], device);
        var carries = Tensor.Empty([2, steps, batch, hidden], device);
        var zero = mask is null ? null : Tensor.Scalar(0f, device);
        int plane = batch * hidden, all = steps * plane;
        Span<int> bh = [batch, hidden], b4h = [batch, 4 * hidden], keepShape = [batch, 1], none = [];

        int t0 = goBackwards ? steps - 1 : 0;
        be.Copy(View(initial, 0, bh), View(carries, t0 * plane, bh));
        be.Copy(View(initial, plane, bh), View(carries, all + t0 * plane, bh));
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            var h = View(carries, t * plane, bh);
            var c = View(carries, all + t * plane, bh);
            var r = View(recurrent, t * 4 * plane, b4h);
            be.MatMul(h, false, 0, kernel, false, 0, r, 1, batch, 4 * hidden, hidden, 0f);
            var cellH = View(cells, t * 2 * plane, bh);
            var cellC = View(cells, (t * 2 + 1) * plane, bh);
            be.LstmCell(View(projected, t * 4 * plane, b4h), r, c, View(cells, t * 2 * plane, [2, batch, hidden]), batch, hidden);

            int next = goBackwards ? t - 1 : t + 1;
            var hNext = s + 1 < steps ? View(carries, next * plane, bh) : View(y, steps * plane, bh);
            var cNext = s + 1 < steps ? View(carries, all + next * plane, bh) : View(y, (steps + 1) * plane, bh);
            var output = View(y, OutputIndex(s, t, inInputOrder) * plane, bh);
            if (mask is null)
            {
                be.Copy(cellH, hNext);
                be.Copy(cellC, cNext);
                be.Copy(cellH, output);
                continue;
            }
            var keep = View(mask, t * batch, keepShape);
            be.Where(keep, cellH, h, hNext);
            be.Where(keep, cellC, c, cNext);
            var previous = zeroOutput || s == 0 ? View(zero!, 0, none) : View(y, OutputIndex(s - 1, goBackwards ? t + 1 : t - 1, inInputOrder) * plane, bh);
            be.Where(keep, cellH, previous, output);
        }
        Anomaly.Check("LstmSequence", y);

        if (Tensor.ShouldRecord(projected, kernel) || Tensor.ShouldRecord(initial))
        {
            var node = NodePool<LstmSequenceNode>.Rent();
            node.SetInputs(projected, kernel, initial);
            (node._mask, node._recurrent, node._cells, node._carries, node._zero) = (mask, recurrent, cells, carries, zero);
            (node._goBackwards, node._zeroOutput, node._inInputOrder) = (goBackwards, zeroOutput, inInputOrder);
            y.Record(node);
        }
        return y;
    }

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
        if (GradMode.IsEnabled) return BackwardInOps(g);
        var (projected, kernel) = (Inputs[0], Inputs[1]);
        int steps = projected.Shape[0], batch = projected.Shape[1], hidden = projected.Shape[2] / 4;
        int plane = batch * hidden, all = steps * plane;
        var be = g.Backend;
        var device = g.Device;
        var dProjected = Tensor.Empty([steps, batch, 4 * hidden], device);
        // The carried state's gradient (dh, dc) and the cell's, swapped each step; dState is the cell's upstream gradient.
        var dCarry = Tensor.Empty([2, batch, hidden], device);
        var dCell = Tensor.Empty([2, batch, hidden], device);
        var dState = Tensor.Empty([2, batch, hidden], device);
        bool chain = _mask is not null && !_zeroOutput;   // masked steps repeat the previous output: its gradient flows back
        var dOutput = chain ? Tensor.Zeros([batch, hidden], device) : null;
        var dStep = chain ? Tensor.Empty([batch, hidden], device) : null;
        var dSum = _mask is null ? null : Tensor.Empty([2, batch, hidden], device);
        Span<int> bh = [batch, hidden], b4h = [batch, 4 * hidden], state = [2, batch, hidden], keepShape = [batch, 1], none = [];
        be.Copy(View(g, steps * plane, state), dCarry);

        for (int s = steps - 1; s >= 0; s--)
        {
            int t = _goBackwards ? steps - 1 - s : s;
            StorageView upstream = View(g, OutputIndex(s, t, _inInputOrder) * plane, bh);
            if (chain)
            {
                be.Binary(BinaryOp.Add, upstream, dOutput, dStep);
                upstream = dStep;
            }
            // The cell's upstream gradient: the carried one plus the output's; zero for masked samples.
            var sum = dSum ?? dState;
            be.Binary(BinaryOp.Add, View(dCarry, 0, bh), upstream, View(sum, 0, bh));
            be.Copy(View(dCarry, plane, bh), View(sum, plane, bh));
            if (dSum is not null) be.Where(View(_mask!, t * batch, keepShape), dSum, View(_zero!, 0, none), dState);

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
            if (chain) be.Where(keep, View(_zero!, 0, none), upstream, dOutput);
            // Masked samples pass the carried gradient through untouched.
            be.Where(keep, dCell, dCarry, dState);
            (dCarry, dState) = (dState, dCarry);
        }

        Tensor? dKernel = null;
        if (Needs(1))
        {
            // dU = Σ_s h_sᵀ da_s: the carried h before every step against that step's da, both at position t.
            dKernel = Tensor.Empty([hidden, 4 * hidden], device);
            be.MatMul(View(_carries!, 0, [steps * batch, hidden]), true, 0, dProjected, false, 0, dKernel, 1, hidden, 4 * hidden, steps * batch, 0f);
        }
        return Grads(Needs(0) ? dProjected : null, dKernel, Needs(2) ? dCarry : null);
    }

    /// <summary>
    /// The same backward in differentiable ops (createGraph): the forward is recomputed step by step from the inputs
    /// (so that the gradient's own dependence on them is recorded), then the steps run in reverse with the
    /// <see cref="LstmCellNode"/> rule, the carried gradient and the output chain as in the fused loop.
    /// </summary>
    private Tensor?[] BackwardInOps(Tensor g)
    {
        var (projected, kernel, initial) = (Inputs[0], Inputs[1], Inputs[2]);
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
        return Grads(Needs(0) ? Tensor.Concat(dProjected, 0) : null, Needs(1) ? dKernel : null,
            Needs(2) ? Tensor.Concat([dh.Unsqueeze(0), dc.Unsqueeze(0)], 0) : null);
    }
}
