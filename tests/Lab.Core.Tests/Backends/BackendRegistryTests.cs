using Lab.Core.Backends;
using Lab.Core.Cuda;

namespace Lab.Core.Tests;

public class BackendRegistryTests
{
    [Fact]
    public void TheCpuBackendIsRegisteredThroughTheSameHookAsCuda()
    {
        Assert.True(BackendRegistry.IsRegistered(DeviceType.Cpu));
        Assert.True(BackendRegistry.IsRegistered(DeviceType.Cuda));   // registered; whether it runs is decided on first use
        Assert.Same(CpuBackend.Instance, BackendRegistry.For(Device.Cpu));
    }

    [Fact]
    public void ARegisteredProviderServesItsDeviceTypeWithTheDeviceIndex()
    {
        // A wrapper that still hands out the real CUDA backend, so that tests running at the same time see no change.
        var asked = new System.Collections.Concurrent.ConcurrentBag<int>();
        BackendRegistry.Register(DeviceType.Cuda, index => { asked.Add(index); return CudaBackend.ForDevice(index); });
        try
        {
            try { _ = BackendRegistry.For(Device.Cuda(3)); }
            catch (DeviceUnavailableException e) { Assert.StartsWith("CUDA not available: ", e.Message); }
            Assert.Contains(3, asked);
        }
        finally { BackendRegistry.Register(DeviceType.Cuda, CudaBackend.ForDevice); }
    }

    [Fact]
    public void RegisteringNothingOrAnUnknownTypeIsAClearError()
    {
        Assert.Throws<ArgumentNullException>(() => BackendRegistry.Register(DeviceType.Cpu, null!));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BackendRegistry.Register((DeviceType)7, _ => CpuBackend.Instance));
        Assert.Contains("unknown device type", e.Message);
        Assert.Same(CpuBackend.Instance, BackendRegistry.For(Device.Cpu));
    }
}

public class StorageViewTests
{
    [Fact]
    public void KernelsWorkOnViewsOfStorageWithoutTensors()
    {
        // Two 2 x 3 operands and a 3-element one inside one storage, at offsets 1, 7 and 13; the output at 16.
        var storage = new CpuStorage(Enumerable.Range(0, 23).Select(i => (float)i).ToArray());
        var a = new StorageView(storage, 1, [2, 3]);
        var b = new StorageView(storage, 13, [3]);
        var y = new StorageView(storage, 16, [2, 3]);
        CpuBackend.Instance.Binary(BinaryOp.Mul, a, b, y);
        Assert.Equal([1f * 13, 2 * 14, 3 * 15, 4 * 13, 5 * 14, 6 * 15], storage.Data[16..22]);
        Assert.Equal(22f, storage.Data[22]);   // untouched past the view
        Assert.Equal(6, y.Numel);
        Assert.False(y.IsNone);
        Assert.True(default(StorageView).IsNone);
    }

    [Fact]
    public void WhereBroadcastsAllThreeOperandsWithoutTemporaries()
    {
        var cond = Tensor.FromArray([1f, 0f, 1f], [3, 1]);
        var a = Tensor.FromArray([10f, 20f], [1, 2]);
        var b = Tensor.FromArray([-1f, -2f], [2, 1, 1]);
        var y = Tensor.Empty([2, 3, 2]);
        CpuBackend.Instance.Where(cond, a, b, y);
        Assert.Equal([10f, 20, -1, -1, 10, 20, 10, 20, -2, -2, 10, 20], y.ToArray());
    }

    [Fact]
    public void AViewThatDoesNotFitItsStorageIsRejected()
    {
        var storage = new CpuStorage(4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new StorageView(storage, 2, [3]));
        Assert.Contains("do not fit a storage of 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StorageView(storage, -1, [1]));
    }
}
