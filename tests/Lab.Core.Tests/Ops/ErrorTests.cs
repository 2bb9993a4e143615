using Lab.Core.Autodiff;

namespace Lab.Core.Tests.Ops;

/// <summary>Bad input must fail with a message naming the op, the shapes and what was expected.</summary>
public class ErrorTests
{
    private static void Throws(Action act, params string[] fragments)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void BroadcastMismatchNamesOpAndShapes() =>
        Throws(() => _ = Tensor.Zeros(2, 3) + Tensor.Zeros(4), "Add", "[2, 3]", "[4]");

    [Fact]
    public void MatMulInnerMismatch() =>
        Throws(() => Tensor.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)), "MatMul", "[2, 3]", "[4, 5]", "3 vs 4");

    [Fact]
    public void MatMulRank() => Throws(() => Tensor.MatMul(Tensor.Zeros(3), Tensor.Zeros(3, 2)), "MatMul", "[3]");

    [Fact]
    public void ReshapeCount() => Throws(() => Tensor.Zeros(2, 3).Reshape(4, 2), "Reshape", "[2, 3]", "[4, 2]");

    [Fact]
    public void ReshapeTwoInferred() => Throws(() => Tensor.Zeros(2, 3).Reshape(-1, -1), "Reshape", "-1");

    [Fact]
    public void ConvChannels() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 3, 5, 5), Tensor.Zeros(4, 2, 3, 3)), "Conv2d", "3 channels", "[4, 2, 3, 3]");

    [Fact]
    public void ConvRank() => Throws(() => Tensor.Conv2d(Tensor.Zeros(3, 5, 5), Tensor.Zeros(4, 3, 3, 3)), "Conv2d", "N x C x H x W", "[3, 5, 5]");

    [Fact]
    public void ConvKernelTooLarge() => Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 2, 2), Tensor.Zeros(1, 1, 3, 3)), "Conv2d", "larger");

    [Fact]
    public void ConvBias() => Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(2, 1, 3, 3), Tensor.Zeros(3)), "bias", "[2]");

    [Fact]
    public void SameNeedsStrideOne() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3), null, (1, 2), Padding.SameSize), "Conv2d", "same", "stride 1x2");

    [Fact]
    public void ConvGroupsMustDivideTheInputChannels() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 3, 5, 5), Tensor.Zeros(4, 1, 3, 3), groups: 2), "Conv2d", "3 channels", "groups 2");

    [Fact]
    public void ConvGroupsMustDivideTheOutputChannels() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 4, 5, 5), Tensor.Zeros(3, 2, 3, 3), groups: 2), "Conv2d", "[3, 2, 3, 3]", "3 output channels", "groups 2");

    [Fact]
    public void ConvWeightChannelsPerGroup() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 4, 5, 5), Tensor.Zeros(4, 4, 3, 3), groups: 2), "Conv2d", "4 channels", "[4, 4, 3, 3]", "groups 2 expects 8");

    [Fact]
    public void ConvDilatedKernelTooLarge() =>
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 4, 9), Tensor.Zeros(1, 1, 3, 3), dilation: 2), "Conv2d", "dilation 2", "extent 5x5", "4x9");

    [Fact]
    public void ConvStrideAndDilationPositive()
    {
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3), stride: (1, 0)), "Conv2d", "stride", "1x0");
        Throws(() => Tensor.ConvTranspose2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3), dilation: (0, 1)), "ConvTranspose2d", "dilation", "0x1");
        Throws(() => Tensor.Conv2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3), padding: (0, -1)), "Conv2d", "negative", "0x-1");
    }

    [Fact]
    public void ConvTransposeOutputPaddingBelowStrideOrDilation()
    {
        var (x, w) = (Tensor.Zeros(1, 2, 3, 3), Tensor.Zeros(2, 1, 3, 3));
        Throws(() => Tensor.ConvTranspose2d(x, w, null, (2, 1), 1, outputPadding: (1, 1)), "ConvTranspose2d", "output padding 1x1", "stride (2x1)", "dilation (1x1)");
        Throws(() => Tensor.ConvTranspose2d(x, w, null, 2, 1, outputPadding: (0, 2), dilation: 2), "output padding 0x2", "stride (2x2)", "dilation (2x2)");
        Assert.Equal([1, 1, 8, 11], Tensor.ConvTranspose2d(x, w, null, 1, 0, outputPadding: (1, 2), dilation: (2, 3)).ShapeArray());
    }

    [Fact]
    public void ConvTransposeGroups()
    {
        Throws(() => Tensor.ConvTranspose2d(Tensor.Zeros(1, 3, 3, 3), Tensor.Zeros(3, 2, 3, 3), groups: 2), "ConvTranspose2d", "3 channels", "groups 2");
        Throws(() => Tensor.ConvTranspose2d(Tensor.Zeros(1, 4, 3, 3), Tensor.Zeros(2, 2, 3, 3), groups: 2), "ConvTranspose2d", "4 channels", "[2, 2, 3, 3]");
        Throws(() => Tensor.ConvTranspose2d(Tensor.Zeros(1, 2, 3, 3), Tensor.Zeros(2, 1, 3, 3), padding: Padding.SameSize), "ConvTranspose2d", "same");
    }

    [Fact]
    public void ConvLayerOptions()
    {
        Throws(() => new Lab.Core.Nn.Conv2d(6, 4, 3, groups: 4), "Conv2d", "6", "4", "groups 4");
        Throws(() => new Lab.Core.Nn.Conv2d(2, 4, 3, stride: 2, padding: Padding.SameSize), "Conv2d", "same", "stride 2");
        Throws(() => new Lab.Core.Nn.Conv2d(2, 4, (3, 0)), "Conv2d", "kernel 3x0");
        Throws(() => new Lab.Core.Nn.ConvTranspose2d(2, 4, 3, stride: 2, outputPadding: 2), "ConvTranspose2d", "output padding 2x2");
    }

    [Fact]
    public void PoolTooLarge() => Throws(() => Tensor.Zeros(1, 1, 2, 2).MaxPool2d(3), "MaxPool2d", "[1, 1, 2, 2]");

    [Fact]
    public void AxisOutOfRange() => Throws(() => Tensor.Zeros(2, 3).Sum(2), "Sum", "axis 2", "rank 2");

    [Fact]
    public void GatherIndexOutOfRange() =>
        Throws(() => Tensor.Zeros(2, 3).Gather(Tensor.FromArray(0f, 3f)), "Gather", "index[1] = 3", "[0, 3)");

    [Fact]
    public void GatherNonInteger() => Throws(() => Tensor.Zeros(2, 3).Gather(Tensor.FromArray(0f, 1.5f)), "Gather", "1.5");

    [Fact]
    public void IndexSelectIndexOutOfRange() =>
        Throws(() => Tensor.Zeros(4, 3).IndexSelect(0, Tensor.FromArray(-1f)), "IndexSelect", "index[0] = -1");

    [Fact]
    public void ConcatMismatch() =>
        Throws(() => Tensor.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(2, 4)], 0), "Concat", "[2, 4]", "[2, 3]");

    [Fact]
    public void NarrowOutOfRange() => Throws(() => Tensor.Zeros(4, 3).Narrow(0, 2, 3), "Narrow", "[2, 5)", "size 4");

    [Fact]
    public void FromArrayCount() => Throws(() => Tensor.FromArray(new float[5], [2, 3]), "FromArray", "5 values", "[2, 3]");

    [Fact]
    public void ClampBounds() => Throws(() => Tensor.Zeros(2).Clamp(1, 0), "Clamp");

    [Fact]
    public void DropoutProbability() => Throws(() => Tensor.Zeros(2).Dropout(1.5f, new Generator(1)), "Dropout", "1.5");

    [Fact]
    public void PermuteRepeatedAxis() => Throws(() => Tensor.Zeros(2, 3).Permute(0, 0), "Permute", "repeated");

    [Cuda.NoCudaFact]
    public void CudaUnavailableIsAClearError()
    {
        var ex = Assert.Throws<Backends.DeviceUnavailableException>(() => Tensor.Zeros([2], Device.Cuda()));
        Assert.StartsWith("CUDA not available: ", ex.Message);
    }

    [Fact]
    public void BackwardTwiceWithoutRetainGraphIsExplained()
    {
        var x = Tensor.FromArray(1f, 2f).RequireGrad();
        var y = (x.Exp() * x).Sum();
        y.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("retainGraph", ex.Message);
    }

    [Fact]
    public void AnomalyModeNamesTheFirstBadOp()
    {
        var x = Tensor.FromArray(-1f, 4f);
        using (Anomaly.Detect())
        {
            var ex = Assert.Throws<AnomalyException>(() => x.Log());
            Assert.Contains("Log", ex.Message);
            Assert.Contains("index 0", ex.Message);
        }
        Assert.True(float.IsNaN(x.Log().ToArray()[0]));
    }
}
