using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Cuda;

/// <summary>One comparison of a CUDA result with the CPU's: the worst error |cpu - cuda| / (1 + |cpu|) and its bound.</summary>
public sealed record Check(string Name, double Error, double Tolerance, string Detail = "")
{
    public bool Passed => Error <= Tolerance; // a NaN error fails
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: error {Error:E2} (tolerance {Tolerance:E0}){(Detail.Length > 0 ? " " + Detail : "")}";
}

/// <summary>
/// Runs an op-registry case on the CPU and on a CUDA device with the same inputs and compares the
/// outputs, the gradients of sum(y * v) and, for second-order cases, a Hessian-vector product, all
/// through the public Tensor API. Shared by the xunit tests and the Lab.Cuda.Check console runner.
/// </summary>
public static class CudaComparison
{
    public const double ForwardTolerance = 2e-5, GradientTolerance = 1e-4, SecondOrderTolerance = 2e-4;

    /// <summary>1 / RMS of the finite outputs when that RMS exceeds 1, else 1.</summary>
    private static float ArgumentScale(Tensor y)
    {
        double sum = 0; long count = 0;
        foreach (var value in y.ToArray())
            if (float.IsFinite(value)) { sum += (double)value * value; count++; }
        double rms = count == 0 ? 0 : Math.Sqrt(sum / count);
        return rms > 1 ? (float)(1 / rms) : 1f;
    }

    public static double WorstError(float[] expected, float[] actual, out int at)
    {
        at = -1;
        if (expected.Length != actual.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) && e == a) continue;
            double err = Math.Abs(e - a) / (1 + Math.Abs(e));
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worst) { worst = err; at = i; }
        }
        return worst;
    }

    public static Check Compare(string name, Tensor cpu, Tensor cuda, double tolerance)
    {
        if (!cpu.Shape.SequenceEqual(cuda.Shape))
            return new(name, double.PositiveInfinity, tolerance, $"shape {ShapeUtil.Format(cuda.Shape)} instead of {ShapeUtil.Format(cpu.Shape)}");
        if (cuda.Device.Type != DeviceType.Cuda)
            return new(name, double.PositiveInfinity, tolerance, $"result is on {cuda.Device}");
        var e = cpu.ToArray();
        var a = cuda.ToArray();
        double err = WorstError(e, a, out int at);
        return new(name, err, tolerance, at < 0 ? "" : $"(worst at {at}: cpu {e[at]}, cuda {a[at]})");
    }

    public static List<Check> CompareCase(OpCase c, Device device, double forwardTolerance = ForwardTolerance,
        double gradientTolerance = GradientTolerance, double secondOrderTolerance = SecondOrderTolerance, ulong seed = 7)
    {
        var checks = new List<Check>();
        var g = new Generator(seed);
        var data = c.Inputs.Select(i => i.Draw(g)).ToArray();
        Tensor[] Make(Device d) => c.Inputs.Select((input, i) =>
        {
            var t = Tensor.FromArray(data[i], input.Shape, d);
            if (c.Differentiable && input.Differentiable) t.RequiresGrad = true;
            return t;
        }).ToArray();
        var cpu = Make(Device.Cpu);
        var cuda = Make(device);
        var yCpu = c.Op(cpu);
        var yCuda = c.Op(cuda);
        checks.Add(Compare($"{c.Name} forward", yCpu, yCuda, forwardTolerance));
        if (!c.Differentiable) return checks;

        var diff = Enumerable.Range(0, c.Inputs.Length).Where(i => c.Inputs[i].Differentiable).ToArray();
        var v = Tensor.RandN(new Generator(11), yCpu.ShapeArray());
        var vCuda = v.To(device);
        // The graph of y is kept for the second-order pass below.
        var gCpu = Autograd.Grad([(yCpu * v).Sum()], diff.Select(i => cpu[i]).ToArray(), retainGraph: true, materializeUnused: true);
        var gCuda = Autograd.Grad([(yCuda * vCuda).Sum()], diff.Select(i => cuda[i]).ToArray(), retainGraph: true, materializeUnused: true);
        for (int k = 0; k < diff.Length; k++)
            checks.Add(Compare($"{c.Name} d/dinput{diff[k]}", gCpu[k]!, gCuda[k]!, gradientTolerance));
        if (!c.SecondOrder) return checks;

        var us = diff.Select((i, k) => Tensor.RandN(new Generator(100 + (ulong)k), cpu[i].ShapeArray())).ToArray();
        // tanh keeps the second derivative non-zero for linear ops; its argument is scaled to unit RMS so that
        // large outputs (a matmul over K = 512 has |y| ~ 20) stay off tanh's flat tails, where tanh'' amplifies the
        // CPU's and CUDA's different summation orders in y into differences that say nothing about the kernels.
        float scale = ArgumentScale(yCpu);
        Tensor?[] SecondOrder(Tensor[] inputs, Tensor y, Tensor vv, Device d)
        {
            var xs = diff.Select(i => inputs[i]).ToArray();
            var first = Autograd.Grad([((scale == 1 ? y : y * scale).Tanh() * vv).Sum()], xs, createGraph: true, materializeUnused: true);
            Tensor directional = (first[0]! * us[0].To(d)).Sum();
            for (int k = 1; k < xs.Length; k++) directional = directional + (first[k]! * us[k].To(d)).Sum();
            return Autograd.Grad([directional], xs, materializeUnused: true);
        }
        Tensor?[] hCpu, hCuda;
        try
        {
            hCpu = SecondOrder(cpu, yCpu, v, Device.Cpu);
            hCuda = SecondOrder(cuda, yCuda, vCuda, device);
        }
        catch (Exception e) // keep the first-order results
        {
            checks.Add(new($"{c.Name} second order", double.PositiveInfinity, secondOrderTolerance, $"{e.GetType().Name}: {e.Message}"));
            return checks;
        }
        for (int k = 0; k < diff.Length; k++)
            checks.Add(Compare($"{c.Name} second order d/dinput{diff[k]}", hCpu[k]!, hCuda[k]!, secondOrderTolerance));
        return checks;
    }
}
