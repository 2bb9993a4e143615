namespace Lab.Core.Tests.Cuda;

/// <summary>
/// A capture records whatever is queued on the device's stream, and the backend refuses work from other threads while
/// it runs: these tests run alone, after the parallel ones, so that other test classes never meet a capture.
/// </summary>
[CollectionDefinition(nameof(CudaGraphTests), DisableParallelization = true)]
public sealed class CudaGraphCollection;

/// <summary>CUDA graphs on the device (skipped without one): captured work launched again equals eager work exactly.</summary>
[Collection(nameof(CudaGraphTests))]
public class CudaGraphTests
{
    private static readonly Device Gpu = Device.Cuda();

    private static void AssertAll(IEnumerable<Check> checks)
    {
        var failed = checks.Where(c => !c.Passed).ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }

    [CudaFact]
    public void ACapturedDenseLayerLaunchedThreeTimesEqualsEager() => AssertAll(CudaGraphCases.DenseLayer(Gpu));

    [CudaFact]
    public void ACapturedTrainingStepLaunchedThreeTimesEqualsEager() => AssertAll(CudaGraphCases.TrainingStep(Gpu));

    [CudaFact]
    public void WhatACaptureCannotHoldFailsClearlyAndLeavesTheBackendWorking() => AssertAll(CudaGraphCases.Errors(Gpu));
}
