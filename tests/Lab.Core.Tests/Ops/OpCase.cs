namespace Lab.Core.Tests.Ops;

/// <summary>How the op registry draws an input.</summary>
public enum Domain { Normal, Positive, AwayFromZero, Index, Mask, Unit }

/// <summary>One input of an op case: its shape, how its values are drawn, and whether it is differentiated.</summary>
public sealed record Input(int[] Shape, Domain Domain = Domain.Normal, int IndexBound = 0)
{
    public bool Differentiable => Domain is not (Domain.Index or Domain.Mask);

    public float[] Draw(Generator g)
    {
        var v = new float[R.Count(Shape)];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = Domain switch
            {
                Domain.Normal => (float)g.NextNormal(),
                Domain.Positive => 0.5f + 1.5f * g.NextFloat(),
                Domain.AwayFromZero => (g.NextFloat() < 0.5f ? -1 : 1) * (0.5f + g.NextFloat()),
                Domain.Index => g.NextInt(IndexBound),
                Domain.Mask => g.NextFloat() < 0.5f ? 1f : 0f,
                Domain.Unit => 0.05f + 0.9f * g.NextFloat(),   // a probability away from 0 and 1
                _ => 0,
            };
        }
        return v;
    }
}

/// <summary>
/// One entry of the op registry (in the spirit of PyTorch's OpInfo): the op on tensors, the same op on
/// the double-precision reference, and the inputs to feed both. Every generic test runs every entry.
/// </summary>
/// <remarks>
/// Every differentiable op is checked to second order unless <paramref name="NoSecondOrder"/> gives the written
/// reason it cannot be (e.g. a derivative that is zero almost everywhere); the registry tests reject an empty reason.
/// </remarks>
public sealed record OpCase(string Name, Input[] Inputs, Func<Tensor[], Tensor> Op, Func<R[], R> Reference,
    bool Differentiable = true, string? NoSecondOrder = null, double Tolerance = 1e-4)
{
    /// <summary>Whether the generic tests check the gradient of the gradient for this case.</summary>
    public bool SecondOrder => Differentiable && NoSecondOrder is null;

    public override string ToString() => Name;
}
