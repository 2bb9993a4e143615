using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Tests;

public class TensorScopeTests
{
    private static Sequential Mlp(ulong seed) => new(
        new Linear(2, 64, Activation.Relu, generator: new Generator(seed)),
        new Linear(64, 5, Activation.Softmax, generator: new Generator(seed + 1)));

    private static float[] Train(bool scoped, int steps)
    {
        var model = Mlp(3);
        var opt = new Adam(model.Parameters(), 0.01f);
        var g = new Generator(9);
        for (int i = 0; i < steps; i++)
        {
            var x = Tensor.RandN(g, [16, 2]);
            var y = Tensor.FromArray(Enumerable.Range(0, 16).Select(j => (float)((i + j) % 5)).ToArray(), [16]);
            using var scope = scoped ? TensorScope.Begin() : default;
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
