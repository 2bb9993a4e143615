using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Tests;

public class TensorScopeTests
{
    private static Sequential Mlp(ulong seed) => new(
        new Linear(2, 64, Activation.Relu, generator: new Generator(seed)),
        new Linear(64, 5, Activation.Softmax, generator: new Generator(seed + 1)));

    public enum Scoping { None, Recycling, Checked }

    private static float[] Train(bool scoped, int steps) => Train(scoped ? Scoping.Recycling : Scoping.None, steps);

    private static float[] Train(Scoping scoping, int steps)
    {
        var model = Mlp(3);
        var opt = new Adam(model.Parameters(), 0.01f);
        var g = new Generator(9);
        for (int i = 0; i < steps; i++)
        {
            var x = Tensor.RandN(g, [16, 2]);
            var y = Tensor.FromArray(Enumerable.Range(0, 16).Select(j => (float)((i + j) % 5)).ToArray(), [16]);
            using var scope = scoping switch
            {
                Scoping.Recycling => RecyclingScope(),
                Scoping.Checked => TensorScope.BeginChecked(),
                _ => default,
            };
            opt.ZeroGrad();
            Losses.SparseCategoricalCrossEntropy(model.Call(x), y).Backward();
            opt.Step();
        }
        return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
    }

    [Fact]
    public void ScopedTrainingIsBitIdenticalToUnscoped()
    {
        // Gradients and optimizer state must survive the step; recycled temporaries must not leak values.
        Assert.Equal(Train(scoped: false, steps: 20), Train(scoped: true, steps: 20));
    }

    /// <summary>A scope that reuses tensor objects too (the tests below are about the zero-allocation mode).</summary>
    private static TensorScope RecyclingScope() => TensorScope.BeginRecycling();

    [Fact]
    public void RecycledAndCheckedScopesTrainBitIdentically()
    {
        var plain = Train(Scoping.None, 15);
        Assert.Equal(plain, Train(Scoping.Recycling, 15));
        Assert.Equal(plain, Train(Scoping.Checked, 15));
    }

    /// <summary>Managed bytes the current thread allocates over <paramref name="repeats"/> runs of <paramref name="step"/>, after warm-up runs.</summary>
    /// <remarks>Up to four rounds, the last one counting: a one-off growth of some scratch buffer ends, an allocation per run shows in every round.</remarks>
    private static long SteadyStateBytes(Action step, int repeats = 10)
    {
        for (int i = 0; i < 5; i++) step();
        long bytes = -1;
        for (int round = 0; round < 4 && bytes != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < repeats; i++) step();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return bytes;
    }

    // Shapes and axes below come from variables: a collection expression of constants becomes a span over static
    // data in optimized builds but is allocated on every call in Debug ones, which `dotnet test` builds.
    [Fact]
    public void OpsWithAutogradInsideARecyclingScopeAllocateNothing()
    {
        var g = new Generator(4);
        var w = Tensor.RandN(g, [3, 6]).RequireGrad();
        var k = Tensor.RandN(g, [4, 2, 3, 3]).RequireGrad();
        var bias = Tensor.RandN(g, [4]).RequireGrad();
        var x = Tensor.RandN(g, [5, 3]);
        var image = Tensor.RandN(g, [2, 2, 8, 8]);
        var labels = Tensor.FromArray([0f, 2, 1, 5, 3], [5]);
        var rows = Tensor.FromArray([4f, 0, 2], [3]);
        int one = 1, channels = 4, three = 3, flat = -1;
        int[] bothAxes = [0, 1], spatialAxes = [1, 2, 3], swap = [1, 0];
        long bytes = SteadyStateBytes(() =>
        {
            using var _ = RecyclingScope();
            var h = Tensor.MatMul(x, w).Relu() + 1f;                                          // matmul, relu, affine
            var mixed = Tensor.Where(h.Gt(1.5f), h.Sigmoid(), h.Tanh() * h.Softplus());       // where, comparisons, unary, binary
            var joined = Tensor.Concat([mixed, h.Narrow(1, 0, 2).Exp()], axis: 1);            // concat, narrow
            var picked = joined.Softmax(1).Gather(labels.Narrow(0, 0, 5).Clamp(0, 5));       // softmax, gather, clamp
            var selected = joined.IndexSelect(0, rows).Permute(swap).Reshape(flat).Max(0);   // index_select, permute, reshape, max
            var conv = Tensor.Conv2d(image, k, bias, padding: 1).MaxPool2d(2).AvgPool2d(2);   // conv, pools
            var spread = bias.Reshape(one, channels).Expand(three, channels).Sum(bothAxes);   // expand, sum over axes
            var loss = picked.Log().Neg().Mean() + selected + conv.Square().Mean(spatialAxes).Sum() + spread * 0.1f;
            loss.Backward();
        });
        Assert.True(bytes == 0, $"{bytes / 10.0:F1} bytes per step");
        Assert.NotNull(w.Grad);
        Assert.NotNull(k.Grad);
    }

    [Fact]
    public void SecondOrderGradientsInsideARecyclingScopeAllocateNothing()
    {
        // The score-matching pattern: the trace of an input Jacobian built with createGraph, then differentiated.
        var model = new Sequential(new Linear(2, 8, Activation.Softplus, generator: new Generator(1)), new Linear(8, 2, generator: new Generator(2)));
        var opt = new Adam(model.Parameters());
        var x = Tensor.RandN(new Generator(3), [6, 2]);
        long bytes = SteadyStateBytes(() =>
        {
            using var _ = RecyclingScope();
            opt.ZeroGrad();
            var xi = x.Detach().RequireGrad();
            var s = model.Call(xi);
            Tensor trace = Tensor.Zeros(x.Shape[0], 1);
            for (int i = 0; i < 2; i++)
                trace = trace + Autograd.Grad(s.Narrow(1, i, 1).Sum(), xi, createGraph: true)!.Narrow(1, i, 1);
            ((s * s).Sum(1, keepDim: true) + trace * 2f).Mean().Backward();
            opt.Step();
        });
        Assert.True(bytes == 0, $"{bytes / 10.0:F1} bytes per step");
    }

    [Fact]
    public void AGradientPenaltyThroughPoolingInsideARecyclingScopeAllocatesNothing()
    {
        // The WGAN-GP pattern: |d critic / d x|^2 through max and average pooling (their backward passes recorded
        // as ops), then differentiated with respect to the critic's weights.
        var g = new Generator(6);
        var w1 = Tensor.RandN(g, [32, 6]).RequireGrad();
        var w2 = Tensor.RandN(g, [1, 2]).RequireGrad();
        var x = Tensor.RandN(g, [3, 6]);
        var opt = new Sgd([w1, w2], 0.01f);
        int n = 3, channels = 2, side = 4, flat = 2;
        long bytes = SteadyStateBytes(() =>
        {
            using var _ = RecyclingScope();
            opt.ZeroGrad();
            var xi = x.Detach().RequireGrad();
            var planes = Tensor.MatMul(xi, w1, false, true).Tanh().Reshape(n, channels, side, side);
            var pooled = planes.MaxPool2d(2).AvgPool2d(2, countIncludePad: false).Reshape(n, flat);
            var critic = Tensor.MatMul(pooled, w2, false, true);
            var dx = Autograd.Grad(critic.Sum(), xi, createGraph: true)!;
            (dx * dx).Sum().Backward();
            opt.Step();
        });
        Assert.True(bytes == 0, $"{bytes / 10.0:F1} bytes per step");
        Assert.NotNull(w2.Grad);
    }

    [Fact]
    public void AGradientPenaltyThroughConvolutionsInsideARecyclingScopeAllocatesNothing()
    {
        // WGAN-GP's pattern: the input gradient of a conv critic built with createGraph, its norm penalised, and the
        // penalty differentiated into every weight and bias (the weight-gradient and bias-gradient nodes included).
        var g = new Generator(5);
        var w1 = Tensor.RandN(g, [4, 2, 3, 3]).RequireGrad();
        var b1 = Tensor.RandN(g, [4]).RequireGrad();
        var w2 = Tensor.RandN(g, [4, 1, 3, 2]).RequireGrad();
        var w3 = Tensor.RandN(g, [4, 2, 3, 3]).RequireGrad();
        var b3 = Tensor.RandN(g, [2]).RequireGrad();
        var x = Tensor.RandN(g, [3, 2, 7, 6]);
        int[] perSample = [1, 2, 3];
        int two = 2, one = 1;
        Size2 stride = two;
        Padding padding = one;
        var opt = new Adam([w1, b1, w2, w3, b3]);
        long bytes = SteadyStateBytes(() =>
        {
            using var _ = RecyclingScope();
            opt.ZeroGrad();
            var xi = x.Detach().RequireGrad();
            var h = Tensor.Conv2d(xi, w1, b1, stride, padding).Tanh();
            h = Tensor.Conv2d(h, w2, null, one, Padding.SameSize, dilation: two, groups: 4).Tanh();
            var critic = Tensor.ConvTranspose2d(h, w3, b3, stride, padding, outputPadding: one).Square().Sum();
            var gx = Autograd.Grad(critic, xi, createGraph: true)!;
            var norm = (gx.Square().Sum(perSample) + 1e-6f).Sqrt();
            ((norm - 1f).Square().Mean() * 10f).Backward();
            opt.Step();
        });
        Assert.True(bytes == 0, $"{bytes / 10.0:F1} bytes per step");
        Assert.NotNull(w1.Grad);
        Assert.NotNull(b3.Grad);
    }

    [Fact]
    public void ALateUseOfARecycledTensorThrowsUntilItsObjectIsReused()
    {
        Tensor kept;
        using (RecyclingScope()) kept = (Tensor.Ones(4) * 3f).RequireGrad() * 2f;
        Assert.Throws<ObjectDisposedException>(() => kept.ToArray());
        Assert.Throws<ObjectDisposedException>(() => kept.Relu());
        Assert.Throws<ObjectDisposedException>(() => kept.GradFn);   // its node went back to the pool with it
    }

    [Fact]
    public void CheckedScopesKeepEveryLateUseAnErrorAfterLaterScopes()
    {
        Tensor kept;
        using (TensorScope.BeginChecked()) kept = Tensor.Ones(4) * 3f;
        for (int i = 0; i < 3; i++)
            using (TensorScope.BeginChecked()) _ = (Tensor.Ones(4) * 5f).Sum();
        var e = Assert.Throws<ObjectDisposedException>(() => kept.ToArray());
        Assert.Contains("TensorScope", e.Message);
    }

    [Fact]
    public void AGraphConnectedGradMadeInsideAScopeIsClearedAtItsEnd()
    {
        var w = Tensor.FromArray([1f, 2f]).RequireGrad();
        using (RecyclingScope())
        {
            (w * w).Sum().Backward(createGraph: true);
            Assert.Equal([2f, 4f], w.Grad!.ToArray());
            Assert.NotNull(w.Grad.GradFn);   // differentiable again inside the scope
        }
        Assert.Null(w.Grad);                 // not a dangling reference to a recycled tensor
        using (RecyclingScope()) (w * 3f).Sum().Backward();
        Assert.Equal([3f, 3f], w.Grad!.ToArray());   // an ordinary gradient outlives its scope
    }

    [Fact]
    public void AModuleBuiltInsideARecyclingScopeIsAClearError()
    {
        using var _ = RecyclingScope();
        var e = Assert.Throws<InvalidOperationException>(() => new Linear(2, 3));
        Assert.Contains("TensorScope", e.Message);
        using (TensorScope.Suspend()) Assert.Equal(9, new Linear(2, 3).ParameterCount());
    }

    [Fact]
    public void DisposingAScopeHandleTwiceIsHarmless()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        inner.Dispose();
        inner.Dispose();   // already ended: must not end the outer scope
        Assert.True(TensorScope.IsActive);
        outer.Dispose();
        Assert.False(TensorScope.IsActive);
        default(TensorScope).Dispose();
    }

    [Fact]
    public void SecondScopeReusesTheFirstScopesBuffers()
    {
        TensorScope.TrimPool();
        var x = Tensor.RandN(new Generator(1), [256, 256]);
        void Step() { using (TensorScope.Begin()) _ = (x * 2f + 1f).Exp().Sum().Item(); }
        Step();
        long pooled = TensorScope.PooledFloats;
        Assert.True(pooled >= 2 * 256 * 256, $"pooled {pooled}");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 256 * 256 * sizeof(float), $"a repeated step allocated {allocated} bytes: buffers were not reused");
        Assert.Equal(pooled, TensorScope.PooledFloats);
    }

    [Fact]
    public void UsingATensorAfterItsScopeEndedIsAClearError()
    {
        Tensor kept;
        using (TensorScope.Begin()) kept = Tensor.Ones(4) * 3f;
        var e = Assert.Throws<ObjectDisposedException>(() => kept.ToArray());
        Assert.Contains("TensorScope", e.Message);
    }

    [Fact]
    public void SuspendedAllocationsOutliveTheScope()
    {
        Tensor kept;
        using (TensorScope.Begin())
        {
            var t = Tensor.Ones(4) * 3f;
            using (TensorScope.Suspend()) kept = t.Clone();
        }
        Assert.Equal([3f, 3f, 3f, 3f], kept.ToArray());
        Assert.False(TensorScope.IsActive);
    }

    [Fact]
    public void ScopesMustEndInReverseOrder()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.False(TensorScope.IsActive);
    }

    [Fact]
    public void CachesFirstFilledInsideAScopeSurviveIt()
    {
        // On a fresh thread every lazily cached tensor (such as Expand's zero) is first made inside a scope.
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var w = Tensor.Ones(3, 4).RequireGrad();
                for (int i = 0; i < 3; i++)
                    using (TensorScope.Begin()) (w.Sum(1) * 2f).Sum().Backward();
                Assert.Equal(Enumerable.Repeat(6f, 12), w.Grad!.ToArray());
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
    }
}
