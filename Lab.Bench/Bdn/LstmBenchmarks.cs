using BenchmarkDotNet.Attributes;
using Lab.Core;
using Lab.Core.Nn;

namespace Lab.Bench.Bdn;

/// <summary>
/// One LSTM layer over a batch of sequences, Keras's defaults (tanh / sigmoid, unit forget bias): batch 32, 100 steps,
/// 128 inputs, 128 units, the last h as output. Forward alone (no recording), and a training step (forward, backward of
/// mean(h²), gradients zeroed) inside a recycling TensorScope. bench/pytorch/lstm_step.py times nn.LSTM on the same shapes.
/// </summary>
[Config(typeof(BenchConfig.LongSteps))]
public class LstmBenchmarks
{
    public const int Batch = 32, Steps = 100, Inputs = 128, Units = 128;

    private Lstm _lstm = null!;
    private Tensor _x = null!;

    [Params("cpu", "cuda")]
    public string Device { get; set; } = "cpu";

    [GlobalSetup]
    public void Setup()
    {
        var device = Lab.Core.Device.Parse(Device);
        _lstm = new Lstm(Inputs, Units, generator: new Generator(1));
        _lstm.To(device);
        _x = Tensor.RandN(new Generator(2), [Batch, Steps, Inputs], device: device);
    }

    [Benchmark]
    public float Forward()
    {
        using var scope = TensorScope.Begin();
        using var noGrad = new Lab.Core.Autodiff.NoGrad();
        return _lstm.Forward(_x).Sum().Item();
    }

    [Benchmark]
    public float TrainStep()
    {
        using var scope = TensorScope.Begin();
        _lstm.ZeroGrad();
        var loss = _lstm.Forward(_x).Square().Mean();
        loss.Backward();
        return loss.Item();
    }
}
