using Lab.Core.Autodiff;

namespace Lab.Core;

/// <summary>Which way <see cref="Autograd.Jacobian(Func{Tensor, Tensor}, Tensor, JacobianMode, bool)"/> builds the matrix.</summary>
public enum JacobianMode
{
    /// <summary>One vector-Jacobian product per output element (cheap when outputs are few).</summary>
    Reverse,
    /// <summary>One Jacobian-vector product per input element (cheap when inputs are few).</summary>
    Forward,
}

/// <summary>
/// Function transforms in the style of JAX and torch.autograd.functional, built on the reverse-mode engine:
/// vector-Jacobian and Jacobian-vector products, full Jacobians (reverse or forward), Hessians, Hessian-vector
/// products, and JAX's <c>grad</c> and <c>value_and_grad</c>.
/// </summary>
/// <remarks>
/// <para>f is run on fresh leaves: a copy of each input, cut from the caller's graph, unless <c>createGraph</c> is set
/// and the input already requires grad, in which case the input itself is used so that results stay differentiable
/// with respect to it (torch.autograd.functional's rule). Recording is on while f runs, even inside <see cref="NoGrad"/>.</para>
/// <para>Without <c>createGraph</c> the results are plain tensors; with it, they are recorded and can be differentiated
/// again. An output that does not depend on an input gives zeros (torch's strict=False).</para>
/// <para>Forward mode uses the double-vjp trick: J u is the gradient, with respect to a dummy cotangent w, of
/// (Jᵀ w) · u, so every op needs a backward that is recorded and linear in its incoming gradient (all ops whose
/// registry entry passes the second-order check).</para>
/// </remarks>
public static partial class Autograd
{
    // ---- vector-Jacobian and Jacobian-vector products ----

    /// <summary>f(x) and vᵀ J, the gradient of f(x)·v with respect to x (v may be omitted for a one-element output).</summary>
    public static (Tensor Output, Tensor Vjp) Vjp(Func<Tensor, Tensor> f, Tensor x, Tensor? v = null, bool createGraph = false)
    {
        var (y, vjp) = Vjp(xs => f(xs[0]), [x], v, createGraph);
        return (y, vjp[0]);
    }

    /// <summary>f(xs) and vᵀ J for each input: the gradients of f(xs)·v.</summary>
    public static (Tensor Output, Tensor[] Vjp) Vjp(Func<Tensor[], Tensor> f, Tensor[] xs, Tensor? v = null, bool createGraph = false)
    {
        var leaves = Leaves(xs, createGraph);
        var y = Call("Vjp", f, leaves);
        if (v is not null) CheckShape("Vjp", "v", v, "the output", y);
        else if (y.Numel != 1)
            throw new ArgumentException($"Vjp: v must be given for an output of shape {ShapeUtil.Format(y.Shape)} (it may be omitted only for a single element).");
        var vjp = GradsOrZeros(y, leaves, v, createGraph, retainGraph: createGraph);
        return (Finish(y, createGraph), vjp);
    }

    /// <summary>f(x) and J u, the directional derivative of f at x along u.</summary>
    public static (Tensor Output, Tensor Jvp) Jvp(Func<Tensor, Tensor> f, Tensor x, Tensor u, bool createGraph = false)
        => Jvp(xs => f(xs[0]), [x], [u], createGraph);

    /// <summary>f(xs) and Σₖ Jₖ uₖ, the directional derivative of f along (u₀, u₁, ...).</summary>
    public static (Tensor Output, Tensor Jvp) Jvp(Func<Tensor[], Tensor> f, Tensor[] xs, Tensor[] us, bool createGraph = false)
    {
        if (us.Length != xs.Length) throw new ArgumentException($"Jvp: {us.Length} tangents for {xs.Length} inputs.");
        for (int k = 0; k < xs.Length; k++) CheckShape("Jvp", $"tangent {k}", us[k], $"input {k}", xs[k]);
        var leaves = Leaves(xs, createGraph);
        var y = Call("Jvp", f, leaves);
        var (w, vjp) = CotangentGraph(y, leaves);
        Tensor? jvp = null;
        if (vjp is not null)
        {
            Tensor? dot = null;
            for (int k = 0; k < leaves.Length; k++)
                if (vjp[k] is { RequiresGrad: true } gk) dot = dot is null ? (gk * us[k]).Sum() : dot + (gk * us[k]).Sum();
            if (dot is not null) jvp = GradsOrZeros(dot, [w!], null, createGraph, retainGraph: createGraph)[0];
        }
        return (Finish(y, createGraph), jvp ?? Tensor.Zeros(y.Shape, y.Device));
    }

    // ---- Jacobians ----

    /// <summary>The Jacobian of f at x, of shape f(x).Shape ++ x.Shape.</summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x, JacobianMode mode = JacobianMode.Reverse, bool createGraph = false)
        => Jacobian(xs => f(xs[0]), [x], mode, createGraph)[0];

    /// <summary>The Jacobian of f with respect to each input: entry k has shape f(xs).Shape ++ xs[k].Shape.</summary>
    public static Tensor[] Jacobian(Func<Tensor[], Tensor> f, Tensor[] xs, JacobianMode mode = JacobianMode.Reverse, bool createGraph = false)
    {
        var leaves = Leaves(xs, createGraph);
        var y = Call("Jacobian", f, leaves);
        return mode == JacobianMode.Reverse ? JacobianRows(y, leaves, createGraph) : JacobianColumns(y, leaves, createGraph);
    }

    /// <summary>Row i is the gradient of output element i: one backward pass per output element over the same graph.</summary>
    private static Tensor[] JacobianRows(Tensor y, Tensor[] leaves, bool createGraph)
    {
        int m = y.Numel;
        var rows = new Tensor[leaves.Length][];
        for (int k = 0; k < leaves.Length; k++) rows[k] = new Tensor[m];
        for (int i = 0; i < m; i++)
        {
            var g = GradsOrZeros(y, leaves, OneHot(y, i), createGraph, retainGraph: true);
            for (int k = 0; k < leaves.Length; k++) rows[k][i] = g[k].Reshape(leaves[k].Numel);
        }
        return leaves.Select((x, k) => Assemble(rows[k], 0, y, x)).ToArray();
    }

    /// <summary>
    /// Column j is J e_j. With the cotangent graph Jᵀ w recorded once, J e_j is the gradient of (Jᵀ w)_j with respect
    /// to w: one backward pass per input element over that graph.
    /// </summary>
    private static Tensor[] JacobianColumns(Tensor y, Tensor[] leaves, bool createGraph)
    {
        var (w, vjp) = CotangentGraph(y, leaves);
        var result = new Tensor[leaves.Length];
        for (int k = 0; k < leaves.Length; k++)
        {
            var x = leaves[k];
            var columns = new Tensor[x.Numel];
            for (int j = 0; j < columns.Length; j++)
            {
                var gk = vjp?[k];
                columns[j] = gk is { RequiresGrad: true }
                    ? GradsOrZeros(gk, [w!], OneHot(gk, j), createGraph, retainGraph: true)[0].Reshape(y.Numel)
                    : Tensor.Zeros([y.Numel], y.Device);
            }
            result[k] = Assemble(columns, 1, y, x);
        }
        return result;
    }

    // ---- second order ----

    /// <summary>The Hessian of a scalar f at x, of shape x.Shape ++ x.Shape.</summary>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor x, bool createGraph = false) => Hessian(xs => f(xs[0]), [x], createGraph)[0][0];

    /// <summary>The Hessian blocks of a scalar f: entry [i][j] = ∂²f/∂xᵢ∂xⱼ, of shape xs[i].Shape ++ xs[j].Shape.</summary>
    public static Tensor[][] Hessian(Func<Tensor[], Tensor> f, Tensor[] xs, bool createGraph = false)
    {
        var leaves = Leaves(xs, createGraph);
        var y = Call("Hessian", f, leaves);
        CheckScalar("Hessian", y);
        var grads = GradsOrZeros(y, leaves, null, createGraph: true, retainGraph: true);
        var blocks = new Tensor[leaves.Length][];
        for (int i = 0; i < leaves.Length; i++)
        {
            var gi = grads[i];
            // The block row [i][*] is the Jacobian of ∂f/∂xᵢ, taken row by row like the reverse Jacobian.
            blocks[i] = gi.RequiresGrad
                ? JacobianRows(gi, leaves, createGraph)
                : leaves.Select(x => Tensor.Zeros([.. gi.Shape, .. x.Shape], x.Device)).ToArray();
        }
        return blocks;
    }

    /// <summary>f(x) and H v for a scalar f (the Hessian is symmetric, so this is also vᵀ H), without forming H.</summary>
    public static (Tensor Output, Tensor Hvp) Hvp(Func<Tensor, Tensor> f, Tensor x, Tensor v, bool createGraph = false)
    {
        var (y, hvp) = Hvp(xs => f(xs[0]), [x], [v], createGraph);
        return (y, hvp[0]);
    }

    /// <summary>f(xs) and the Hessian of a scalar f applied to the direction (v₀, v₁, ...), one block per input.</summary>
    public static (Tensor Output, Tensor[] Hvp) Hvp(Func<Tensor[], Tensor> f, Tensor[] xs, Tensor[] vs, bool createGraph = false)
    {
        if (vs.Length != xs.Length) throw new ArgumentException($"Hvp: {vs.Length} directions for {xs.Length} inputs.");
        for (int k = 0; k < xs.Length; k++) CheckShape("Hvp", $"direction {k}", vs[k], $"input {k}", xs[k]);
        var leaves = Leaves(xs, createGraph);
        var y = Call("Hvp", f, leaves);
        CheckScalar("Hvp", y);
        var grads = GradsOrZeros(y, leaves, null, createGraph: true, retainGraph: true);
        Tensor? dot = null;
        for (int k = 0; k < leaves.Length; k++)
            if (grads[k].RequiresGrad) dot = dot is null ? (grads[k] * vs[k]).Sum() : dot + (grads[k] * vs[k]).Sum();
        var hvp = dot is null ? leaves.Select(Tensor.ZerosLike).ToArray() : GradsOrZeros(dot, leaves, null, createGraph, retainGraph: createGraph);
        return (Finish(y, createGraph), hvp);
    }

    // ---- JAX's grad and value_and_grad ----

    /// <summary>JAX's grad: the function x ↦ ∇f(x) of a scalar f (with <paramref name="createGraph"/>, differentiable again).</summary>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> f, bool createGraph = false)
        => x => ValueAndGrad(f, createGraph)(x).Grad;

    /// <summary>JAX's value_and_grad: the function x ↦ (f(x), ∇f(x)) of a scalar f.</summary>
    public static Func<Tensor, (Tensor Value, Tensor Grad)> ValueAndGrad(Func<Tensor, Tensor> f, bool createGraph = false)
        => x =>
        {
            var leaves = Leaves([x], createGraph);
            var y = Call("Grad", xs => f(xs[0]), leaves);
            CheckScalar("Grad", y);
            return (Finish(y, createGraph), GradsOrZeros(y, leaves, null, createGraph, retainGraph: createGraph)[0]);
        };

    // ---- shared steps ----

    /// <summary>The tensors f is run on: the inputs themselves when their graph is to be kept, fresh leaves otherwise.</summary>
    private static Tensor[] Leaves(Tensor[] xs, bool createGraph)
    {
        var leaves = new Tensor[xs.Length];
        for (int k = 0; k < xs.Length; k++)
            leaves[k] = createGraph && xs[k].RequiresGrad ? xs[k] : xs[k].Detach().RequireGrad();
        return leaves;
    }

    private static Tensor Call(string name, Func<Tensor[], Tensor> f, Tensor[] leaves)
    {
        using var _ = new EnableGrad();
        return f(leaves) ?? throw new InvalidOperationException($"{name}: f returned null.");
    }

    /// <summary>The gradients of y (weighted by v) with respect to each leaf; zeros where y does not depend on one.</summary>
    private static Tensor[] GradsOrZeros(Tensor y, Tensor[] leaves, Tensor? v, bool createGraph, bool retainGraph)
    {
        if (!y.RequiresGrad) return leaves.Select(Tensor.ZerosLike).ToArray();
        using var _ = new EnableGrad();
        return Grad([y], leaves, v is null ? null : [v], createGraph, retainGraph, materializeUnused: true).Select(g => g!).ToArray();
    }

    /// <summary>Jᵀ w for a dummy cotangent w of y's shape, recorded so that it can be differentiated with respect to w.</summary>
    private static (Tensor? W, Tensor[]? Vjp) CotangentGraph(Tensor y, Tensor[] leaves)
    {
        if (!y.RequiresGrad) return (null, null);
        var w = Tensor.Zeros(y.Shape, y.Device).RequireGrad();
        return (w, GradsOrZeros(y, leaves, w, createGraph: true, retainGraph: true));
    }

    private static Tensor OneHot(Tensor like, int index)
    {
        var data = new float[like.Numel];
        data[index] = 1;
        return Tensor.FromArray(data, like.Shape, like.Device);
    }

    /// <summary>Stacks flat rows (axis 0) or columns (axis 1) into [y.Numel, x.Numel] and shapes it y.Shape ++ x.Shape.</summary>
    private static Tensor Assemble(Tensor[] parts, int axis, Tensor y, Tensor x)
    {
        int[] shape = [.. y.Shape, .. x.Shape];
        return parts.Length == 0 ? Tensor.Zeros(shape, x.Device) : Tensor.Stack(parts, axis).Reshape(shape);
    }

    private static Tensor Finish(Tensor y, bool createGraph) => createGraph ? y : y.Detach();

    private static void CheckShape(string op, string what, Tensor t, string ofWhat, Tensor like)
    {
        if (!t.Shape.SequenceEqual(like.Shape))
            throw new ArgumentException($"{op}: {what} has shape {ShapeUtil.Format(t.Shape)}, expected the shape of {ofWhat}, {ShapeUtil.Format(like.Shape)}.");
    }

    private static void CheckScalar(string op, Tensor y)
    {
        if (y.Numel != 1)
            throw new ArgumentException($"{op}: f must return a single element, got shape {ShapeUtil.Format(y.Shape)}.");
    }
}
