using Lab.Core.Autodiff;

namespace Lab.Core.Tests.Ops;

/// <summary>The generic tests every registry entry runs: forward vs reference, gradient, gradient of gradient.</summary>
public class OpTests
{
    public static TheoryData<string> AllOps => OpRegistry.Names(_ => true);
    public static TheoryData<string> DifferentiableOps => OpRegistry.Names(c => c.Differentiable);
    public static TheoryData<string> SecondOrderOps => OpRegistry.Names(c => c.SecondOrder);

    private static (Tensor[] Tensors, R[] Refs) MakeInputs(OpCase c, ulong seed = 7)
    {
        var g = new Generator(seed);
        var tensors = new Tensor[c.Inputs.Length];
        var refs = new R[c.Inputs.Length];
        for (int i = 0; i < tensors.Length; i++)
        {
            var data = c.Inputs[i].Draw(g);
            tensors[i] = Tensor.FromArray(data, c.Inputs[i].Shape);
            if (c.Differentiable && c.Inputs[i].Differentiable) tensors[i].RequiresGrad = true;
            refs[i] = new R(Array.ConvertAll(data, v => (double)v), c.Inputs[i].Shape);
        }
        return (tensors, refs);
    }

    [Theory]
    [MemberData(nameof(AllOps))]
    public void ForwardMatchesReference(string name)
    {
        var c = OpRegistry.Get(name);
        var (tensors, refs) = MakeInputs(c);
        var y = c.Op(tensors);
        var expected = c.Reference(refs);
        Assert.Equal(expected.Shape, y.ShapeArray());
        Numeric.AssertClose(expected.Data, y.ToArray(), c.Tolerance, name);
    }

    /// <summary>An op is exempt from the second-order check only with a written reason.</summary>
    [Fact]
    public void EveryExemptionFromSecondOrderHasAReason()
    {
        foreach (var c in OpRegistry.All().Where(c => c.Differentiable && c.NoSecondOrder is not null))
            Assert.False(string.IsNullOrWhiteSpace(c.NoSecondOrder) || c.NoSecondOrder.Length < 20,
                $"{c.Name} is exempt from the second-order check without a reason a reviewer can read: '{c.NoSecondOrder}'.");
    }

    /// <summary>d/dx of sum(op(x) * v) against central differences of the double reference.</summary>
    [Theory]
    [MemberData(nameof(DifferentiableOps))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var c = OpRegistry.Get(name);
        var (tensors, refs) = MakeInputs(c);
        var y = c.Op(tensors);
        var v = Tensor.RandN(new Generator(11), y.ShapeArray());
        var rv = R.Of(v);
        var diff = Enumerable.Range(0, tensors.Length).Where(i => c.Inputs[i].Differentiable).ToArray();
        var grads = Autograd.Grad([(y * v).Sum()], diff.Select(i => tensors[i]).ToArray(), materializeUnused: true);

        double Loss(R[] inputs) => c.Reference(inputs).Data.Zip(rv.Data, (a, b) => a * b).Sum();
        for (int k = 0; k < diff.Length; k++)
        {
            var numeric = Numeric.Gradient(Loss, refs, diff[k], 1e-6);
            Numeric.AssertClose(numeric, grads[k]!.ToArray(), 2e-3, $"{name} d/dinput{diff[k]}");
        }
    }

    /// <summary>
    /// The derivative of u·∇L (a Hessian-vector product) through createGraph, against nested central
    /// differences of the double reference: the check the score-matching loss depends on.
    /// </summary>
    [Theory]
    [MemberData(nameof(SecondOrderOps))]
    public void SecondOrderGradientMatchesFiniteDifferences(string name)
    {
        var c = OpRegistry.Get(name);
        var (tensors, refs) = MakeInputs(c);
        var y = c.Op(tensors);
        var v = Tensor.RandN(new Generator(11), y.ShapeArray());
        var rv = R.Of(v);
        var diff = Enumerable.Range(0, tensors.Length).Where(i => c.Inputs[i].Differentiable).ToArray();
        var inputs = diff.Select(i => tensors[i]).ToArray();
        // A smooth outer function (loss = sum(tanh(y) * v)) so that linear ops still have a non-zero Hessian.
        var loss = (y.Tanh() * v).Sum();
        var first = Autograd.Grad([loss], inputs, createGraph: true, materializeUnused: true);
        var us = inputs.Select((t, k) => Tensor.RandN(new Generator(100 + (ulong)k), t.ShapeArray())).ToArray();
        Tensor directional = (first[0]! * us[0]).Sum();
        for (int k = 1; k < inputs.Length; k++) directional = directional + (first[k]! * us[k]).Sum();
        if (!directional.RequiresGrad)
        {
            // The op is linear in every input and the outer tanh gives the only curvature: still checkable.
            Assert.Fail($"{name}: first-order gradient was not recorded with createGraph.");
        }
        var second = Autograd.Grad([directional], inputs, materializeUnused: true);

        var ru = us.Select(R.Of).ToArray();
        double Loss(R[] x) => c.Reference(x).Data.Select(Math.Tanh).Zip(rv.Data, (a, b) => a * b).Sum();
        double Directional(R[] x)
        {
            const double h = 1e-4;
            var plus = x.Select(r => r.With((double[])r.Data.Clone())).ToArray();
            var minus = x.Select(r => r.With((double[])r.Data.Clone())).ToArray();
            for (int k = 0; k < diff.Length; k++)
                for (int j = 0; j < ru[k].Numel; j++)
                {
                    plus[diff[k]].Data[j] += h * ru[k].Data[j];
                    minus[diff[k]].Data[j] -= h * ru[k].Data[j];
                }
            return (Loss(plus) - Loss(minus)) / (2 * h);
        }
        for (int k = 0; k < diff.Length; k++)
        {
            var numeric = Numeric.Gradient(Directional, refs, diff[k], 1e-4);
            Numeric.AssertClose(numeric, second[k]!.ToArray(), 5e-3, $"{name} second order d/dinput{diff[k]}");
        }
    }
}
