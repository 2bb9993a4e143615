using Lab.Core.Backends;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Cuda;

/// <summary>Every op of the registry and the larger CUDA cases, forward and backward, on the GPU against the CPU.</summary>
public class CudaOpTests
{
    private static readonly Device Gpu = Device.Cuda();

    public static TheoryData<string> AllOps => OpRegistry.Names(_ => true);

    public static TheoryData<string> LargeCases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in CudaCases.Large()) data.Add(c.Name);
            return data;
        }
    }

    private static void AssertAll(IEnumerable<Check> checks)
    {
        var failed = checks.Where(c => !c.Passed).ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }

    [CudaTheory]
    [MemberData(nameof(AllOps))]
    public void RegistryOpMatchesCpu(string name) => AssertAll(CudaComparison.CompareCase(OpRegistry.Get(name), Gpu));

    [CudaTheory]
    [MemberData(nameof(LargeCases))]
    public void LargeCaseMatchesCpu(string name)
        => AssertAll(CudaComparison.CompareCase(CudaCases.Large().Single(c => c.Name == name), Gpu,
            CudaCases.LargeForwardTolerance, CudaCases.LargeGradientTolerance));

    [CudaFact]
    public void ElementaryFunctionsAreAccurate() => AssertAll(CudaCases.MathAccuracy(Gpu));

    [CudaFact]
    public void MlpTrainingMatchesCpu() => AssertAll(CudaCases.MlpTraining(Gpu));

    [CudaFact]
    public void CnnTrainingMatchesCpu() => AssertAll(CudaCases.CnnTraining(Gpu));

    [CudaFact]
    public void TrainerFitMatchesCpu() => AssertAll(CudaCases.TrainerFit(Gpu));

    [CudaFact]
    public void OptimizerStepsMatchCpu() => AssertAll(CudaCases.OptimizerSteps(Gpu));

    [CudaFact]
    public void FunctionalTransformsMatchCpu() => AssertAll(CudaCases.FunctionalTransforms(Gpu));

    [CudaFact]
    public void EdgeCasesMatchCpu() => AssertAll(CudaCases.EdgeCases(Gpu));

    [CudaFact]
    public void AllocatorReusesBlocks() => AssertAll(CudaCases.AllocatorReuse(Gpu));

    [CudaFact]
    public void MixedDevicesAndBadIndicesAreClearErrors() => AssertAll(CudaCases.Errors(Gpu));

    [CudaFact]
    public void TensorsAndModulesMoveBetweenDevices()
    {
        var x = Tensor.RandN(new Generator(1), [3, 4]);
        var back = x.To(Gpu).To(Device.Cpu);
        Assert.Equal(x.ToArray(), back.ToArray());
        var layer = new Lab.Core.Nn.Linear(4, 2, generator: new Generator(2)).To(Gpu);
        Assert.Equal(Gpu, layer.Device);
        Assert.All(layer.Parameters(), p => Assert.Equal(Gpu, p.Device));
        Assert.IsType<Lab.Core.Cuda.CudaBackend>(BackendRegistry.For(Gpu));
    }
}
