using System.Diagnostics;
using System.Text.RegularExpressions;
using Lab.Core.Backends;
using Lab.Core.Cuda;

namespace Lab.Core.Tests.Cuda;

/// <summary>What of the CUDA backend can be checked on any machine: the PTX build, the kernel table, the host-side logic, the error without a GPU.</summary>
public class CudaHostTests
{
    [Fact]
    public void AskingForCudaEitherWorksOrFailsFastWithTheReason()
    {
        var watch = Stopwatch.StartNew();
        if (CudaRuntime.UnavailableReason is { } reason)
        {
            var e = Assert.Throws<DeviceUnavailableException>(() => BackendRegistry.For(Device.Cuda()));
            Assert.Equal("CUDA not available: " + reason, e.Message);
            var e2 = Assert.Throws<DeviceUnavailableException>(() => Tensor.Zeros([2, 3], Device.Cuda()));
            Assert.Equal(e.Message, e2.Message);
            Assert.Throws<DeviceUnavailableException>(() => Tensor.Ones(3).To(Device.Cuda()));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the CUDA probe took {watch.Elapsed}");
        }
        else Assert.Equal(Device.Cuda(), BackendRegistry.For(Device.Cuda()).Device);
        Assert.Equal(6f, (Tensor.Ones(2, 3) * 1f).Sum().Item()); // the CPU is unaffected
    }

    [Fact]
    public void AMissingDeviceIndexIsUnavailableToo()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => BackendRegistry.For(Device.Cuda(99)));
        Assert.StartsWith("CUDA not available: ", e.Message);
    }

    [ClangFact]
    public void CommittedPtxIsWhatClangBuildsFromTheSources()
    {
        var dir = Directory.CreateTempSubdirectory("lab-ptx-");
        try
        {
            var (code, errors) = PtxBuild.Build(dir.FullName);
            Assert.True(code == 0, "build-ptx.sh failed: " + errors);
            var committed = Directory.GetFiles(PtxBuild.KernelDir(), "*.ptx").Select(Path.GetFileName).Order().ToArray();
            var built = Directory.GetFiles(dir.FullName, "*.ptx").Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(built, committed);
            foreach (var name in built)
                Assert.True(File.ReadAllText(Path.Combine(dir.FullName, name!)) == File.ReadAllText(Path.Combine(PtxBuild.KernelDir(), name!)),
                    $"{name} is out of date: run Lab.Core/Cuda/kernels/build-ptx.sh and commit the result.");
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void EmbeddedPtxIsTheCommittedPtx()
    {
        foreach (var module in Kernels.All.Select(k => k.Module).Distinct())
            Assert.Equal(File.ReadAllText(Path.Combine(PtxBuild.KernelDir(), module + ".ptx")), Kernels.Ptx(module));
    }

    [Fact]
    public void EveryKernelExistsWithTheSignatureTheBackendLaunchesItWith()
    {
        foreach (var group in Kernels.All.GroupBy(k => k.Module))
        {
            var entries = PtxBuild.Entries(Kernels.Ptx(group.Key));
            foreach (var k in group)
            {
                Assert.True(entries.TryGetValue(k.Name, out var sig), $"{group.Key}.ptx has no kernel {k.Name}");
                Assert.True(sig == k.Signature, $"{k.Name}: the PTX takes ({sig}), the backend launches ({k.Signature})");
            }
        }
    }

    [Fact]
    public void PtxNeedsNoExternalFunctions()
    {
        foreach (var module in Kernels.All.Select(k => k.Module).Distinct())
            Assert.DoesNotContain(".extern", Kernels.Ptx(module));
    }

    /// <summary>The kernels switch on the C# enums' integer values: the .cu enums must list the same names in the same order.</summary>
    [Theory]
    [InlineData(typeof(UnaryOp), "elementwise.cu", "U_")]
    [InlineData(typeof(BinaryOp), "elementwise.cu", "B_")]
    [InlineData(typeof(ReduceOp), "reduce.cu", "R_")]
    public void KernelOpCodesFollowTheEnums(Type enumType, string file, string prefix)
    {
        var source = File.ReadAllText(Path.Combine(PtxBuild.KernelDir(), file));
        var match = Regex.Match(source, @"enum\s*\{\s*(" + prefix + @"[^}]*)\}");
        Assert.True(match.Success, $"{file} has no enum of {prefix}* codes");
        var codes = match.Groups[1].Value.Split(',').Select(s => s.Trim()[prefix.Length..].Replace("_", "").ToLowerInvariant()).ToArray();
        var names = Enum.GetNames(enumType).Select(n => n.ToLowerInvariant()).ToArray();
        Assert.Equal(names, codes);
        Assert.Equal(Enumerable.Range(0, names.Length), Enum.GetValues(enumType).Cast<object>().Select(Convert.ToInt32));
    }

    [Theory]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 640)]
    [InlineData(1000, 1024)]
    [InlineData(1025, 1280)]
    [InlineData(4000, 4096)]
    [InlineData(3 << 20, 3 << 20)]
    [InlineData((3 << 20) + 1, 7 << 19)]
    public void AllocatorSizeClassesWasteAtMostAQuarter(long bytes, long expected)
    {
        Assert.Equal(expected, CudaAllocator.SizeClass(bytes));
        Assert.True(CudaAllocator.SizeClass(bytes) <= Math.Max(512, bytes * 1.25 + 1));
    }

    [Fact]
    public void BroadcastsCoalesceToFewDimensions()
    {
        Span<int> size = stackalloc int[8], sa = stackalloc int[8], sb = stackalloc int[8];
        int dims = CudaBackend.Coalesce([64, 32, 10, 10], [64, 32, 10, 10], [1, 32, 1, 1], default, size, sa, sb, default);
        Assert.Equal(3, dims);
        Assert.Equal([100, 32, 64], size[..3].ToArray());
        Assert.Equal([1, 100, 3200], sa[..3].ToArray());
        Assert.Equal([0, 1, 0], sb[..3].ToArray());

        dims = CudaBackend.Coalesce([3, 4], [3, 4], [3, 4], default, size, sa, sb, default);
        Assert.Equal((1, 12, 1, 1), (dims, size[0], sa[0], sb[0]));

        dims = CudaBackend.Coalesce([], [], [], default, size, sa, sb, default);
        Assert.Equal((1, 1, 0, 0), (dims, size[0], sa[0], sb[0]));

        Span<int> sc = stackalloc int[8];
        dims = CudaBackend.Coalesce([2, 3, 4], [3, 1], [2, 3, 4], [4], size, sc, sa, sb);
        Assert.Equal(3, dims);
        Assert.Equal([4, 3, 2], size[..3].ToArray());
        Assert.Equal([0, 1, 0], sc[..3].ToArray());
        Assert.Equal([1, 4, 12], sa[..3].ToArray());
        Assert.Equal([1, 0, 0], sb[..3].ToArray());
    }
}
