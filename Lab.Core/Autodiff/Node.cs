namespace Lab.Core.Autodiff;

/// <summary>
/// The backward half of a primitive op, created by its forward in the same file. It holds the inputs
/// and whatever the forward saved, and maps the gradient of the output to gradients of the inputs.
/// Gradient rules are written with tensor ops, so when the engine runs them with recording on
/// (createGraph) they are differentiable again; rules may take a fused kernel path when recording is off.
/// </summary>
public abstract class Node
{
    protected Node(params Tensor[] inputs) => Inputs = inputs;

    public Tensor[] Inputs { get; }
    public virtual string Name => GetType().Name.Replace("Node", "Backward");
    internal bool Released { get; set; }

    /// <summary>
    /// Gradients for each input (null where an input needs none). A returned gradient may have a
    /// broadcast shape; the engine sums it back to the input's shape in one place.
    /// </summary>
    public abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>Whether input i needs a gradient (skip its computation when not).</summary>
    protected bool Needs(int i) => Inputs[i].RequiresGrad;
}
