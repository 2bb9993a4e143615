using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Tests;

/// <summary>A tensor kept past the TensorScope that made it: every use throws, however many steps later.</summary>
public class LateUseTests
{
    private const string Message = "Tensor used after its TensorScope ended";

    /// <summary>A tensor, its view and a graph-connected result made inside a scope that then ran, followed by three later steps.</summary>
    private static (Tensor Plain, Tensor View, Tensor Connected) KeptPastTheirScope()
    {
        var w = Tensor.FromArray([1f, 2f, 3f, 4f]).RequireGrad();
        Tensor plain, view, connected;
        using (TensorScope.Begin())
        {
            plain = Tensor.Ones(4) * 3f;
            view = plain.Reshape(2, 2);
            connected = (w * 2f).Sum();
        }
        // Later steps of the same sizes: their buffers and nodes are the ones the kept tensors used.
        for (int i = 0; i < 3; i++)
            using (TensorScope.Begin()) (Tensor.Ones(4) * 5f + (w * 7f)).Sum().Backward();
        return (plain, view, connected);
    }

    public static TheoryData<string> AccessPaths() => new(
        "ToArray", "Item", "CopyTo", "Indexer", "ToString", "Storage", "Device", "OpInput", "SecondOpInput", "Reshape",
        "Detach", "Clone", "To", "CopyFrom", "AddInPlace", "Fill", "GradFn", "RequiresGrad", "Backward", "AutogradGrad", "BackendCall");

    [Theory]
    [MemberData(nameof(AccessPaths))]
    public void EveryAccessToATensorKeptPastItsScopeThrows(string path)
    {
        var (plain, view, connected) = KeptPastTheirScope();
        var live = Tensor.Ones(4);
        Action use = path switch
        {
            "ToArray" => () => plain.ToArray(),
            "Item" => () => connected.Item(),
            "CopyTo" => () => plain.CopyTo(new float[4]),
            "Indexer" => () => _ = view[1, 1],
            "ToString" => () => _ = plain.ToString(),
            "Storage" => () => _ = plain.Storage,
            "Device" => () => _ = view.Device,
            "OpInput" => () => plain.Exp(),
            "SecondOpInput" => () => _ = live + plain,
            "Reshape" => () => plain.Reshape(2, 2),
            "Detach" => () => plain.Detach(),
            "Clone" => () => view.Clone(),
            "To" => () => plain.To(Device.Cpu).Clone(),
            "CopyFrom" => () => live.CopyFrom(plain),
            "AddInPlace" => () => plain.AddInPlace(live),
            "Fill" => () => view.Fill(0f),
            "GradFn" => () => _ = connected.GradFn,
            "RequiresGrad" => () => _ = connected.RequiresGrad,
            "Backward" => () => connected.Backward(),
            "AutogradGrad" => () => Autograd.Grad(connected, live.RequireGrad()),
            "BackendCall" => () => Backends.CpuBackend.Instance.Fill(plain, 1f),
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
        };
        var e = Assert.ThrowsAny<InvalidOperationException>(use);
        Assert.Contains(Message, e.Message);
    }

    [Fact]
    public void ALateUseThrowsInNestedScopesToo()
    {
        using var outer = TensorScope.Begin();
        Tensor inner;
        using (TensorScope.Begin()) inner = Tensor.Ones(3) * 2f;
        var e = Assert.Throws<ObjectDisposedException>(() => inner.Sum());
        Assert.Contains(Message, e.Message);
        Assert.Equal(3f, (Tensor.Ones(3) * 1f).Sum().Item());   // the outer scope goes on
    }

    [Fact]
    public void TensorsKeptDeliberatelyStayUsable()
    {
        var w = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor copy, suspended, loss;
        float value;
        using (TensorScope.Begin())
        {
            var y = w * 3f;
            loss = (y * y).Sum();
            loss.Backward();
            value = loss.Item();                                   // read out inside the scope
            using (TensorScope.Suspend()) copy = y.Clone().Detach();   // copied out under Suspend
            using (TensorScope.Suspend()) suspended = Tensor.Full([2], 7f);
        }
        for (int i = 0; i < 3; i++)
            using (TensorScope.Begin()) ((w * 5f).Sum() + Tensor.Ones(2).Sum()).Backward();
        Assert.Equal(45f, value);
        Assert.Equal([3f, 6f], copy.ToArray());
        Assert.Equal([7f, 7f], suspended.ToArray());
        Assert.Equal([18f + 3 * 5, 36f + 3 * 5], w.Grad!.ToArray());   // gradients accumulate in memory of their own
        Assert.Throws<ObjectDisposedException>(() => loss.Item());
    }

    [Fact]
    public void TensorsMadeOutsideScopesAreUntouched()
    {
        var before = Tensor.FromArray([1f, 2f, 3f]) * 2f;
        using (TensorScope.Begin()) _ = (before + 1f).Sum().Item();
        Assert.Equal([2f, 4f, 6f], before.ToArray());
        Assert.Equal([2f, 4f, 6f], before.Reshape(3, 1).ToArray());
    }

    [Fact]
    public void TheDefaultScopeAllocatesOnlyTheTensorObjectsOfAStep()
    {
        // Buffers and nodes come from the pools; the only per-step garbage is one small object (and shape array) per tensor.
        var model = new Sequential(new Linear(2, 16, Activation.Relu, generator: new Generator(1)), new Linear(16, 3, generator: new Generator(2)));
        var opt = new Adam(model.Parameters());
        var x = Tensor.RandN(new Generator(3), [8, 2]);
        var labels = Tensor.FromArray([0f, 1, 2, 0, 1, 2, 0, 1]);
        int tensorsPerStep = 0;
        void Step()
        {
            using var _ = TensorScope.Begin();
            opt.ZeroGrad();
            Losses.SparseCategoricalCrossEntropy(model.Call(x), labels, fromLogits: true).Backward();
            opt.Step();
        }
        for (int i = 0; i < 5; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        // Count the step's tensors through a recycling scope, which allocates nothing and pools one object per tensor.
        using (TensorScope.BeginRecycling()) tensorsPerStep = CountTensors(() => Losses.SparseCategoricalCrossEntropy(model.Call(x), labels, fromLogits: true).Backward());
        Assert.True(tensorsPerStep > 10, $"{tensorsPerStep} tensors");
        Assert.True(perStep <= tensorsPerStep * 160L, $"{perStep} bytes per step for {tensorsPerStep} tensors");
        Assert.True(perStep > 0);
    }

    private static int CountTensors(Action step)
    {
        int before = TensorScope.TensorsInCurrentScope;
        step();
        return TensorScope.TensorsInCurrentScope - before;
    }
}
