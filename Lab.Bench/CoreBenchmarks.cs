using BenchmarkDotNet.Attributes;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Models;

namespace Lab.Bench;

/// <summary>
/// The cost of one tiny element-wise op, with and without autograd recording, and its managed
/// allocations: per-op overhead is what decides the speed of the seed workloads. The plain cases make
/// ordinary tensors (each op allocates its tensor, node and buffer); the Scoped cases run 16 ops inside one
/// <see cref="TensorScope"/>, as a training step does, where those come from pools.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Bdn.BenchConfig.ShortRuns))]
public class OpOverheadBenchmarks
{
    private Tensor _a = null!, _b = null!, _ga = null!;

    [Params(16, 1024)]
    public int Size;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(1);
        _a = Tensor.RandN(g, [Size]);
        _b = Tensor.RandN(g, [Size]);
        _ga = Tensor.RandN(g, [Size]).RequireGrad();
    }

    [Benchmark(Baseline = true)]
    public Tensor AddNoGrad() => _a + _b;

    [Benchmark]
    public Tensor AddRecorded() => _ga + _b;

    [Benchmark]
    public Tensor ReluRecorded() => _ga.Relu();

    [Benchmark]
    public Tensor MatMulSmall() => Tensor.MatMul(_a.Reshape(1, Size), _b.Reshape(Size, 1));

    private const int OpsPerScope = 16;

    [Benchmark(OperationsPerInvoke = OpsPerScope)]
    public int AddNoGradScoped()
    {
        using var scope = TensorScope.Begin();
        int n = 0;
        for (int i = 0; i < OpsPerScope; i++) n += (_a + _b).Numel;
        return n;
    }

    [Benchmark(OperationsPerInvoke = OpsPerScope)]
    public int AddRecordedScoped()
    {
        using var scope = TensorScope.Begin();
        int n = 0;
        for (int i = 0; i < OpsPerScope; i++) n += (_ga + _b).Numel;
        return n;
    }

    [Benchmark(OperationsPerInvoke = OpsPerScope)]
    public int ReluRecordedScoped()
    {
        using var scope = TensorScope.Begin();
        int n = 0;
        for (int i = 0; i < OpsPerScope; i++) n += _ga.Relu().Numel;
        return n;
    }
}

/// <summary>
/// One optimizer step of the toy MLP (batch 10), the digits CNN (batch 10) and the MNIST CNN (batch 32), allocations
/// included, inside a <see cref="TensorScope"/> as Trainer.Fit runs it.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Bdn.BenchConfig.LongSteps))]
public class TrainingStepBenchmarks
{
    private Module _toy = null!, _cnn = null!, _mnist = null!;
    private Optimizer _toyOpt = null!, _cnnOpt = null!, _mnistOpt = null!;
    private Tensor _toyX = null!, _toyY = null!, _cnnX = null!, _cnnY = null!, _mnistX = null!, _mnistY = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(1);
        _toy = new ToyMlp(g);
        _toyOpt = new Adam(_toy.Parameters());
        _toyX = Tensor.RandN(g, [10, 2]);
        _toyY = Tensor.FromArray([0f, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
        _cnn = new DigitsCnn(g);
        _cnnOpt = new Adam(_cnn.Parameters());
        _cnnX = Tensor.Rand(g, [10, 1, 8, 8]);
        _cnnY = Tensor.FromArray([0f, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        _mnist = new MnistCnn(g);
        _mnistOpt = new Adam(_mnist.Parameters());
        _mnistX = Tensor.Rand(g, [32, 1, 28, 28]);
        _mnistY = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (float)(i % 10)).ToArray());
    }

    private static void Step(Module m, Optimizer o, Tensor x, Tensor y)
    {
        using var scope = TensorScope.Begin();
        o.ZeroGrad();
        var loss = Losses.SparseCategoricalCrossEntropy(m.Call(x), y);
        loss.Backward();
        o.Step();
    }

    [Benchmark]
    public void ToyMlpStep() => Step(_toy, _toyOpt, _toyX, _toyY);

    [Benchmark]
    public void DigitsCnnStep() => Step(_cnn, _cnnOpt, _cnnX, _cnnY);

    [Benchmark]
    public void MnistCnnStep() => Step(_mnist, _mnistOpt, _mnistX, _mnistY);

    [Benchmark]
    public float ToyMlpInference()
    {
        using var scope = TensorScope.Begin();
        using var _ = new NoGrad();
        return _toy.Call(_toyX).Sum().Item();
    }
}
