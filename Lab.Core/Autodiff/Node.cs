namespace Lab.Core.Autodiff;

/// <summary>
/// The backward half of a primitive op, created by its forward in the same file. It holds the inputs
/// and whatever the forward saved, and maps the gradient of the output to gradients of the inputs.
/// Gradient rules are written with tensor ops, so when the engine runs them with recording on
/// (createGraph) they are differentiable again; rules may take a fused kernel path when recording is off.
/// <para>
/// The built-in nodes are pooled per type (<see cref="NodePool{T}"/>): inside a recycling
/// <see cref="TensorScope"/> a forward rents one and the scope's end hands it back, so recording a graph
/// allocates nothing in steady state. A node subclass of your own is simply allocated.
/// </para>
/// </summary>
public abstract class Node
{
    private Tensor[] _inputs;
    private Tensor?[]? _grads;
    // Pooled nodes of one type serve ops of different arity (a convolution with or without bias):
    // one array per arity, so that renting never reallocates.
    private Tensor[]? _inputs1, _inputs2, _inputs3;
    private Tensor?[]? _grads1, _grads2, _grads3;

    protected Node(params Tensor[] inputs) => _inputs = inputs;

    /// <summary>For pooled nodes: inputs are set by <see cref="SetInputs(Tensor)"/> when rented.</summary>
    private protected Node() => _inputs = [];

    public Tensor[] Inputs => _inputs;
    public virtual string Name => DefaultNames.GetOrAdd(GetType(), static t => t.Name.Replace("Node", "Backward"));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, string> DefaultNames = new();
    internal bool Released { get; set; }

    /// <summary>
    /// Gradients for each input (null where an input needs none). A returned gradient may have a
    /// broadcast shape; the engine sums it back to the input's shape in one place. The engine reads the
    /// array before it calls another node, so a node may return the same array every time (<see cref="Grads(Tensor?)"/>).
    /// </summary>
    public abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>Whether input i needs a gradient (skip its computation when not).</summary>
    protected bool Needs(int i) => Inputs[i].RequiresGrad;

    /// <summary>This node's reusable result array holding one gradient.</summary>
    protected Tensor?[] Grads(Tensor? a)
    {
        var r = GradBuffer(1);
        r[0] = a;
        return r;
    }

    /// <summary>This node's reusable result array holding two gradients.</summary>
    protected Tensor?[] Grads(Tensor? a, Tensor? b)
    {
        var r = GradBuffer(2);
        r[0] = a;
        r[1] = b;
        return r;
    }

    /// <summary>This node's reusable result array holding three gradients.</summary>
    protected Tensor?[] Grads(Tensor? a, Tensor? b, Tensor? c)
    {
        var r = GradBuffer(3);
        r[0] = a;
        r[1] = b;
        r[2] = c;
        return r;
    }

    /// <summary>This node's reusable result array of <paramref name="count"/> gradients, cleared.</summary>
    protected Tensor?[] GradBuffer(int count)
    {
        var r = count switch
        {
            1 => _grads1 ??= new Tensor?[1],
            2 => _grads2 ??= new Tensor?[2],
            3 => _grads3 ??= new Tensor?[3],
            _ => _grads is { } g && g.Length == count ? g : _grads = new Tensor?[count],
        };
        Array.Clear(r);
        return r;
    }

    private protected void SetInputs(Tensor a)
    {
        var r = _inputs1 ??= new Tensor[1];
        r[0] = a;
        _inputs = r;
    }

    private protected void SetInputs(Tensor a, Tensor b)
    {
        var r = _inputs2 ??= new Tensor[2];
        r[0] = a;
        r[1] = b;
        _inputs = r;
    }

    private protected void SetInputs(Tensor a, Tensor b, Tensor c)
    {
        var r = _inputs3 ??= new Tensor[3];
        r[0] = a;
        r[1] = b;
        r[2] = c;
        _inputs = r;
    }

    private protected void SetInputs(ReadOnlySpan<Tensor> inputs)
    {
        var r = inputs.Length switch
        {
            1 => _inputs1 ??= new Tensor[1],
            2 => _inputs2 ??= new Tensor[2],
            3 => _inputs3 ??= new Tensor[3],
            _ => _inputs.Length == inputs.Length && _inputs != _inputs1 && _inputs != _inputs2 && _inputs != _inputs3 ? _inputs : new Tensor[inputs.Length],
        };
        for (int i = 0; i < r.Length; i++) r[i] = inputs[i];
        _inputs = r;
    }

    /// <summary>Hands a pooled node back to its pool at the end of the scope that rented it.</summary>
    internal virtual void Recycle() { }

    /// <summary>Drops the references a pooled node holds, keeping its arrays for the next use.</summary>
    private protected void ClearForPool()
    {
        Array.Clear(_inputs);
        if (_grads1 is not null) Array.Clear(_grads1);
        if (_grads2 is not null) Array.Clear(_grads2);
        if (_grads3 is not null) Array.Clear(_grads3);
        if (_grads is not null) Array.Clear(_grads);
        Released = false;
    }
}

/// <summary>A built-in node that goes back to its type's pool when the scope that rented it ends.</summary>
internal abstract class PooledNode<T> : Node where T : PooledNode<T>, new()
{
    /// <summary>Drops what the forward saved besides the inputs (an output, indices), so the pool keeps nothing alive.</summary>
    private protected virtual void ClearSaved() { }

    internal sealed override void Recycle()
    {
        ClearSaved();
        ClearForPool();
        NodePool<T>.Return((T)this);
    }
}

/// <summary>Per-thread free lists of one node type; rented nodes are tracked by the current scope.</summary>
internal static class NodePool<T> where T : Node, new()
{
    [ThreadStatic] private static Stack<T>? t_free;

    public static T Rent()
    {
        if (!TensorScope.IsActive) return new T();   // pooled in every scope: a tensor of an ended scope cannot reach its node
        var free = t_free;
        var node = free is { Count: > 0 } ? free.Pop() : new T();
        TensorScope.Track(node);
        return node;
    }

    public static void Return(T node) => (t_free ??= new Stack<T>()).Push(node);
}
