using Lab.Core.Autodiff;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// The fused batch-norm kernels against the composed form (element-wise ops and reductions, which the registry
/// checks against the double reference): outputs, running statistics, gradients of every input, and evaluation,
/// on shapes with vector tails (spatial 1, 9, 17, 35), one channel, batch 1 and the GAN's 16 x 16 x 4 x 4.
/// </summary>
public class BatchNormFusedTests
{
    public static TheoryData<int[]> Shapes => new() { new[] { 2, 1, 3, 3 }, new[] { 1, 3, 17 }, new[] { 5, 2 }, new[] { 3, 4, 5, 7 }, new[] { 16, 16, 4, 4 } };

    private sealed record Result(float[] Y, float[] RunningMean, float[] RunningVar, float[] Dx, float[] Dw, float[] Db, float[] Eval);

    private static Result Run(int[] shape, bool composed)
    {
        var g = new Generator(17);
        int c = shape[1];
        // An offset far from zero and a spread per channel: the two-pass variance must not lose them.
        var x = (Tensor.RandN(g, shape) * 3f + 50f).RequireGrad();
        var w = Tensor.RandN(g, [c]).RequireGrad();
        var b = Tensor.RandN(g, [c]).RequireGrad();
        var upstream = Tensor.RandN(g, shape);
        var (runningMean, runningVar) = (Tensor.RandN(g, [c]), Tensor.RandN(g, [c]).Abs() + 0.5f);
        BatchNormNode.ForceComposed = composed;
        try
        {
            var y = Tensor.BatchNorm(x, runningMean, runningVar, w, b, training: true, momentum: 0.3f, eps: 1e-3f);
            var grads = Autograd.Grad([(y * upstream).Sum()], [x, w, b]);
            float[] eval;
            using (new NoGrad()) eval = Tensor.BatchNorm(x, runningMean, runningVar, w, b, training: false, eps: 1e-3f).ToArray();
            return new(y.ToArray(), runningMean.ToArray(), runningVar.ToArray(), grads[0]!.ToArray(), grads[1]!.ToArray(), grads[2]!.ToArray(), eval);
        }
        finally { BatchNormNode.ForceComposed = false; }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FusedKernels_MatchTheComposedForm(int[] shape)
    {
        var fused = Run(shape, composed: false);
        var composed = Run(shape, composed: true);
        Close(composed.Y, fused.Y, 2e-5, "y");
        Close(composed.RunningMean, fused.RunningMean, 1e-5, "running mean");
        Close(composed.RunningVar, fused.RunningVar, 1e-5, "running variance");
        Close(composed.Dx, fused.Dx, 1e-4, "dx");
        Close(composed.Dw, fused.Dw, 1e-4, "dweight");
        Close(composed.Db, fused.Db, 1e-5, "dbias");
        Close(composed.Eval, fused.Eval, 2e-5, "evaluation");
    }

    [Fact]
    public void FusedGradient_WithoutWeightOrBias_NeedsOnlyX()
    {
        var x = Tensor.RandN(new Generator(3), [4, 2, 3]).RequireGrad();
        var upstream = Tensor.RandN(new Generator(4), [4, 2, 3]);
        var fused = Autograd.Grad((Tensor.BatchNorm(x, null, null, null, null, training: true) * upstream).Sum(), x)!.ToArray();
        BatchNormNode.ForceComposed = true;
        try
        {
            var composed = Autograd.Grad((Tensor.BatchNorm(x, null, null, null, null, training: true) * upstream).Sum(), x)!.ToArray();
            Close(composed, fused, 1e-4, "dx");
        }
        finally { BatchNormNode.ForceComposed = false; }
    }

    private static void Close(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: composed {expected[i]:R}, fused {actual[i]:R}");
    }
}
