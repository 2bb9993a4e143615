using Lab.Core.Backends;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// Large element-wise kernels (a CNN's activations) run in slices on the worker pool: every unary op and the
/// rectifier gradients must give the same bits on one thread and on two, at a size with a ragged last slice.
/// </summary>
public class ElementwiseThreadingTests
{
    private const int Size = (1 << 16) + 4099;

    [Fact]
    public void UnaryOpsAndRectifierGradients_GiveTheSameBitsOnOneAndTwoThreads()
    {
        Assert.True(Size >= CpuBackend.MinElementsForThreads);
        var rng = new Random(21);
        var x = Tensor.FromArray(Enumerable.Range(0, Size).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray(), [Size]);
        var g = Tensor.FromArray(Enumerable.Range(0, Size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), [Size]);
        var be = CpuBackend.Instance;
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var (alpha, beta) = op switch { UnaryOp.Clamp => (-1f, 2f), UnaryOp.Pow => (3f, 0f), UnaryOp.LeakyRelu => (0.2f, 0f), UnaryOp.Affine => (1.5f, -0.5f), _ => (0f, 0f) };
            float[] Forward(int threads)
            {
                var y = ConvKernelTests.NaNs([Size]);
                GemmTests.WithThreads(threads, () => be.Unary(op, x, y, alpha, beta));
                return y.ToArray();
            }
            var one = Forward(1);
            Assert.True(one.SequenceEqual(Forward(2)), $"{op}: one and two threads differ");
            Assert.DoesNotContain(one, v => float.IsNaN(v) && op is not (UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Pow));
        }
        foreach (var (op, slope) in new[] { (UnaryOp.Relu, 0f), (UnaryOp.LeakyRelu, 0.2f) })
        {
            float[] Backward(int threads)
            {
                var dx = ConvKernelTests.NaNs([Size]);
                GemmTests.WithThreads(threads, () => be.UnaryGrad(op, x, x, g, dx, slope));
                return dx.ToArray();
            }
            var one = Backward(1);
            var xs = x.ToArray();
            var gs = g.ToArray();
            for (int i = 0; i < Size; i += 997) Assert.Equal(xs[i] > 0 ? gs[i] : slope * gs[i], one[i]);
            Assert.True(one.SequenceEqual(Backward(2)), $"{op} gradient: one and two threads differ");
        }
    }
}
