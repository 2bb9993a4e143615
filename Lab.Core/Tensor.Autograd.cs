using Lab.Core.Autodiff;

namespace Lab.Core;

public sealed partial class Tensor
{
    private bool _requiresGrad;

    /// <summary>Whether gradients flow to this tensor: set on leaves (parameters, inputs); implied for op results.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || GradFn is not null;
        set
        {
            if (!value && GradFn is not null)
                throw new InvalidOperationException($"RequiresGrad: cannot turn off gradients of a non-leaf tensor (made by {GradFn.Name}); use Detach().");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient after <see cref="Backward"/> (leaves only).</summary>
    public Tensor? Grad { get; set; }

    private Node? _gradFn;

    /// <summary>The node that made this tensor, or null for a leaf (throws once the scope that made it has ended: its node serves later steps).</summary>
    public Node? GradFn => ScopeEnded ? throw ScopeEndedError() : _gradFn;

    public bool IsLeaf => GradFn is null;

    /// <summary>Marks this tensor as requiring gradients and returns it (fluent form).</summary>
    public Tensor RequireGrad(bool requires = true) { RequiresGrad = requires; return this; }

    /// <summary>A tensor sharing this one's storage but cut from the graph.</summary>
    public Tensor Detach() => Make(Storage, Offset, _shape);

    /// <summary>Reverse-mode differentiation from this tensor into the Grad of every leaf it depends on.</summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
        => Autograd.Backward(this, gradient, retainGraph, createGraph);

    /// <summary>Attaches <paramref name="node"/> as this tensor's origin when recording is on and an input needs it.</summary>
    internal Tensor Record(Node node)
    {
        _gradFn = node;
        return this;
    }

    /// <summary>Whether an op on these inputs must record a node.</summary>
    internal static bool ShouldRecord(Tensor a) => a.RequiresGrad && GradMode.IsEnabled;
    internal static bool ShouldRecord(Tensor a, Tensor b) => (a.RequiresGrad || b.RequiresGrad) && GradMode.IsEnabled;
    internal static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }
}
