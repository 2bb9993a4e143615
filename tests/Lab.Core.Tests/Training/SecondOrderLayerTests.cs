using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Training;

/// <summary>Second order through whole layers: Hessian-vector products of a small network's loss against differences of its gradient.</summary>
public class SecondOrderLayerTests
{
    /// <summary>Linear, batch norm (training statistics or running ones), max and average pooling, Linear.</summary>
    private static Sequential Net() => new(
        new Linear(6, 48, Activation.Tanh, generator: new Generator(1)),
        new Reshape(3, 4, 4),
        new BatchNorm2d(3),
        new MaxPool2d(2, stride: 1),
        new AvgPool2d(2, padding: 1, countIncludePad: false),
        new Flatten(),
        new Linear(3 * 2 * 2, 2, generator: new Generator(2)));


    /// <summary>
    /// H u, with H the Hessian of the loss with respect to every parameter, from createGraph, against
    /// (grad(θ + h u) - grad(θ - h u)) / 2h in float with h = 1e-2 (the error bound allows for the float gradients).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HessianVectorProductOfANetWithBatchNormAndPooling_MatchesDifferencesOfTheGradient(bool training)
    {
        var net = Net();
        var g = new Generator(3);
        var x = Tensor.RandN(g, [5, 6]);
        var target = Tensor.RandN(g, [5, 2]);
        net.Call(Tensor.RandN(g, [5, 6]) * 2f); // non-trivial running statistics for evaluation mode
        net.Train(training);
        var parameters = net.Parameters().ToArray();
        var directions = parameters.Select((p, i) => Tensor.RandN(new Generator(10 + (ulong)i), p.ShapeArray(), std: 0.3f)).ToArray();
        Tensor Loss() => Losses.Mse(net.Call(x), target);

        var grads = Autograd.Grad([Loss()], parameters, createGraph: true, materializeUnused: true);
        Tensor directional = (grads[0]! * directions[0]).Sum();
        for (int i = 1; i < parameters.Length; i++) directional = directional + (grads[i]! * directions[i]).Sum();
        var hvp = Autograd.Grad([directional], parameters, materializeUnused: true);

        const float h = 1e-3f;
        float[][] GradientAt(float step)
        {
            using (new NoGrad())
                for (int i = 0; i < parameters.Length; i++) parameters[i].CopyFrom(parameters[i] + directions[i] * step);
            var result = Autograd.Grad([Loss()], parameters, materializeUnused: true).Select(t => t!.ToArray()).ToArray();
            using (new NoGrad())
                for (int i = 0; i < parameters.Length; i++) parameters[i].CopyFrom(parameters[i] - directions[i] * step);
            return result;
        }
        var plus = GradientAt(h);
        var minus = GradientAt(-h);
        double largest = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            var numeric = plus[i].Zip(minus[i], (a, b) => ((double)a - b) / (2 * h)).ToArray();
            largest = Math.Max(largest, numeric.Max(Math.Abs));
            Numeric.AssertClose(numeric, hvp[i]!.ToArray(), 2e-3, $"H u for parameter {i} {ShapeUtil.Format(parameters[i].Shape)}");
        }
        Assert.True(largest > 0.1, $"the check needs curvature to compare, largest |H u| = {largest}");
    }
}
