using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    /// <summary>
    /// One LSTM step in one kernel, Keras's equations with gates in Keras's order i, f, c, o: a = xProj + hProj
    /// ([B, 4H]: the input projection x W + b and the recurrent one h U), c = σ(a_f) cPrev + σ(a_i) tanh(a_c),
    /// h = σ(a_o) tanh(c). Returns the new state [2, B, H], h then c; <see cref="Select"/> takes each without a copy.
    /// </summary>
    public static Tensor LstmCell(Tensor xProj, Tensor hProj, Tensor cPrev) => LstmCellNode.Apply(xProj, hProj, cPrev);

    /// <summary>
    /// One GRU step in one kernel, Keras's reset_after form with gates z, r, h: xProj = x W + b_in and
    /// hProj = h U + b_rec ([B, 3H]); z = σ(x_z + h_z), r = σ(x_r + h_r), n = tanh(x_h + r h_h),
    /// h = z hPrev + (1 - z) n. Returns h [B, H].
    /// </summary>
    public static Tensor GruCell(Tensor xProj, Tensor hProj, Tensor hPrev) => GruCellNode.Apply(xProj, hProj, hPrev);

    /// <summary>The slice at <paramref name="index"/> of the leading axis, without that axis: a view that shares storage (PyTorch's select(0, i)).</summary>
    public Tensor Select(int index) => SelectNode.Apply(this, index);
}

/// <summary>
/// The fused LSTM step. With recording off its backward is one kernel; under createGraph it is written out in
/// tensor ops, so that gradients of any order are right.
/// </summary>
internal sealed class LstmCellNode : PooledNode<LstmCellNode>
{
    private Tensor? _state;

    public LstmCellNode() { }

    private protected override void ClearSaved() => _state = null;

    public static Tensor Apply(Tensor xProj, Tensor hProj, Tensor cPrev)
    {
        var (batch, hidden) = Check("LstmCell", 4, xProj, hProj, cPrev);
        var state = Tensor.Empty([2, batch, hidden], xProj.Device);
        xProj.Backend.LstmCell(xProj, hProj, cPrev, state, batch, hidden);
        Anomaly.Check("LstmCell", state);
        if (Tensor.ShouldRecord(xProj, hProj) || Tensor.ShouldRecord(cPrev))
        {
            var node = NodePool<LstmCellNode>.Rent();
            node.SetInputs(xProj, hProj, cPrev);
            node._state = state;
            state.Record(node);
        }
        return state;
    }

    /// <summary>Checks a fused step's operands: projections [B, gates H] alike, a previous state [B, H], one device.</summary>
    internal static (int Batch, int Hidden) Check(string op, int gates, Tensor xProj, Tensor hProj, Tensor prev)
    {
        if (prev.Rank != 2) throw new ArgumentException($"{op}: expected a previous state [B, H], got {ShapeUtil.Format(prev.Shape)}.");
        int batch = prev.Shape[0], hidden = prev.Shape[1];
        CheckProjection(op, "input projection", xProj, batch, gates, hidden);
        CheckProjection(op, "recurrent projection", hProj, batch, gates, hidden);
        if (xProj.Device != hProj.Device || xProj.Device != prev.Device)
            throw new ArgumentException($"{op}: operands on different devices ({xProj.Device}, {hProj.Device}, {prev.Device}).");
        return (batch, hidden);
    }

    private static void CheckProjection(string op, string name, Tensor t, int batch, int gates, int hidden)
    {
        if (t.Rank != 2 || t.Shape[0] != batch || t.Shape[1] != gates * hidden)
            throw new ArgumentException($"{op}: expected the {name} [{batch}, {gates * hidden}] ({gates} gates of {hidden} units for a state " +
                $"[{batch}, {hidden}]), got {ShapeUtil.Format(t.Shape)}.");
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var (xProj, hProj, cPrev) = (Inputs[0], Inputs[1], Inputs[2]);
        int batch = cPrev.Shape[0], hidden = cPrev.Shape[1];
        if (!GradMode.IsEnabled)
        {
            var dGates = Tensor.Empty([batch, 4 * hidden], g.Device);
            var dCPrev = Tensor.Empty([batch, hidden], g.Device);
            g.Backend.LstmCellGrad(xProj, hProj, cPrev, _state!, g, dGates, dCPrev, batch, hidden);
            return Grads(Needs(0) ? dGates : null, Needs(1) ? dGates : null, Needs(2) ? dCPrev : null);
        }
        var (da, dcPrev) = GradientInOps(xProj, hProj, cPrev, g.Select(0), g.Select(1));
        return Grads(Needs(0) ? da : null, Needs(1) ? da : null, Needs(2) ? dcPrev : null);
    }

    /// <summary>
    /// The step's gradient in differentiable ops (createGraph), from the upstream gradients of h and c: the gradient of
    /// the pre-activations [B, 4H] (of xProj and of hProj alike) and of cPrev.
    /// </summary>
    internal static (Tensor DGates, Tensor DCPrev) GradientInOps(Tensor xProj, Tensor hProj, Tensor cPrev, Tensor gh, Tensor gc)
    {
        int hidden = cPrev.Shape[1];
        var a = xProj + hProj;
        var i = a.Narrow(1, 0, hidden).Sigmoid();
        var f = a.Narrow(1, hidden, hidden).Sigmoid();
        var cand = a.Narrow(1, 2 * hidden, hidden).Tanh();
        var o = a.Narrow(1, 3 * hidden, hidden).Sigmoid();
        var tc = (f * cPrev + i * cand).Tanh();
        var dc = gc + gh * o * (1f - tc.Square());
        var da = Tensor.Concat([dc * cand * i * (1f - i), dc * cPrev * f * (1f - f), dc * i * (1f - cand.Square()), gh * tc * o * (1f - o)], 1);
        return (da, dc * f);
    }
}

/// <summary>The fused GRU step (reset after the recurrent product); backward as <see cref="LstmCellNode"/>'s.</summary>
internal sealed class GruCellNode : PooledNode<GruCellNode>
{
    public GruCellNode() { }

    public static Tensor Apply(Tensor xProj, Tensor hProj, Tensor hPrev)
    {
        var (batch, hidden) = LstmCellNode.Check("GruCell", 3, xProj, hProj, hPrev);
        var h = Tensor.Empty([batch, hidden], xProj.Device);
        xProj.Backend.GruCell(xProj, hProj, hPrev, h, batch, hidden);
        Anomaly.Check("GruCell", h);
        if (Tensor.ShouldRecord(xProj, hProj) || Tensor.ShouldRecord(hPrev))
        {
            var node = NodePool<GruCellNode>.Rent();
            node.SetInputs(xProj, hProj, hPrev);
            h.Record(node);
        }
        return h;
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var (xProj, hProj, hPrev) = (Inputs[0], Inputs[1], Inputs[2]);
        int batch = hPrev.Shape[0], hidden = hPrev.Shape[1];
        if (!GradMode.IsEnabled)
        {
            var dx = Tensor.Empty([batch, 3 * hidden], g.Device);
            var dh = Tensor.Empty([batch, 3 * hidden], g.Device);
            var dhp = Tensor.Empty([batch, hidden], g.Device);
            g.Backend.GruCellGrad(xProj, hProj, hPrev, g, dx, dh, dhp, batch, hidden);
            return Grads(Needs(0) ? dx : null, Needs(1) ? dh : null, Needs(2) ? dhp : null);
        }
        var z = (xProj.Narrow(1, 0, hidden) + hProj.Narrow(1, 0, hidden)).Sigmoid();
        var r = (xProj.Narrow(1, hidden, hidden) + hProj.Narrow(1, hidden, hidden)).Sigmoid();
        var rh = hProj.Narrow(1, 2 * hidden, hidden);
        var n = (xProj.Narrow(1, 2 * hidden, hidden) + r * rh).Tanh();
        var daz = g * (hPrev - n) * z * (1f - z);
        var dan = g * (1f - z) * (1f - n.Square());
        var dar = dan * rh * r * (1f - r);
        return Grads(Needs(0) ? Tensor.Concat([daz, dar, dan], 1) : null,
            Needs(1) ? Tensor.Concat([daz, dar, dan * r], 1) : null,
            Needs(2) ? g * z : null);
    }
}

/// <summary>A leading-axis slice as a view; its gradient places g at the slice in zeros.</summary>
internal sealed class SelectNode : PooledNode<SelectNode>
{
    private int _index, _n;

    public SelectNode() { }

    public static Tensor Apply(Tensor x, int index)
    {
        if (x.Rank == 0) throw new ArgumentException("Select: a scalar has no axis to select from.");
        int n = x.Shape[0];
        if ((uint)index >= (uint)n) throw new ArgumentException($"Select: index {index} is outside the leading axis of size {n} (shape {ShapeUtil.Format(x.Shape)}).");
        var y = Tensor.Make(x.Storage, x.Offset + index * (n == 0 ? 0 : x.Numel / n), x.Shape[1..]);
        if (Tensor.ShouldRecord(x))
        {
            var node = NodePool<SelectNode>.Rent();
            (node._index, node._n) = (index, n);
            node.SetInputs(x);
            y.Record(node);
        }
        return y;
    }

    /// <summary>The slice's position on the leading axis (the engine adds a first-order gradient there in place).</summary>
    internal int Index => _index;

    public override Tensor?[] Backward(Tensor g) => Grads(NarrowNode.Embed(g.Unsqueeze(0), 0, _index, _n));
}
