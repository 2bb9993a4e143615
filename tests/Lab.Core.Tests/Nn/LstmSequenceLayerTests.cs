using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

/// <summary>
/// The LSTM layer's whole-sequence op against its step loop (<see cref="RecurrentLayer.ForceStepLoop"/>), which the
/// registry checks against Keras's equations: the same outputs, final states and gradients (input, every weight,
/// initial states) on odd batches, unit counts off the vector width, masks all on, all off and ragged, both
/// directions, sequences or last output, zero or repeated outputs for masked steps, in a Bidirectional, and to
/// second order through createGraph.
/// </summary>
public class LstmSequenceLayerTests
{
    public static TheoryData<int, int, int, string, bool, bool, bool, bool> Configurations => new()
    {
        // batch, steps, units, mask, goBackwards, returnSequences, zeroOutputForMask, initial states
        { 1, 6, 5, "none", false, true, false, false },
        { 3, 5, 19, "ragged", false, true, false, true },
        { 3, 5, 19, "ragged", true, true, true, false },
        { 3, 5, 19, "ragged", true, false, false, true },
        { 2, 4, 16, "all on", false, false, false, false },
        { 2, 4, 17, "all off", true, true, false, true },
        { 2, 4, 17, "all off", false, false, true, false },
        { 5, 1, 3, "ragged", false, true, false, true },
        { 4, 7, 33, "ragged", false, false, false, false },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void TheWholeSequenceOpMatchesTheStepLoop(int batch, int steps, int units, string mask, bool goBackwards, bool returnSequences,
        bool zeroOutputForMask, bool initialStates)
    {
        Lstm Make() => new(4, units, returnSequences: returnSequences, returnState: true, goBackwards: goBackwards, generator: new Generator(3))
            { ZeroOutputForMask = zeroOutputForMask };
        var fused = Run(Make, batch, steps, mask, initialStates, stepLoop: false);
        var loop = Run(Make, batch, steps, mask, initialStates, stepLoop: true);
        Assert.Equal(loop.Length, fused.Length);
        for (int i = 0; i < loop.Length; i++)
            Numeric.AssertClose(loop[i].Values, fused[i].Values, 2e-5, $"{loop[i].Name} (batch {batch}, steps {steps}, units {units}, mask {mask})");
    }

    [Theory]
    [InlineData(MergeMode.Concat, true, false)]
    [InlineData(MergeMode.Sum, false, true)]
    [InlineData(MergeMode.None, true, true)]
    public void BidirectionalMatchesTheStepLoop(MergeMode mode, bool returnSequences, bool initialStates)
    {
        var results = new List<float[]>[2];
        for (int pass = 0; pass < 2; pass++)
        {
            RecurrentLayer.ForceStepLoop = pass == 1;
            try
            {
                var bi = new Bidirectional(OpRegistry.Randomised(new Lstm(4, 7, returnSequences: returnSequences, returnState: true, generator: new Generator(5)), 6), mode);
                OpRegistry.Randomised(bi.Backwards, 8);
                var g = new Generator(9);
                var x = Tensor.RandN(g, [3, 6, 4]);
                x.RequiresGrad = true;
                var init = initialStates ? Enumerable.Range(0, 4).Select(_ => Tensor.RandN(g, [3, 7])).ToArray() : null;
                if (init is not null) foreach (var s in init) s.RequiresGrad = true;
                var outs = bi.CallWithStates(x, Mask(3, 6, "ragged"), init);
                Tensor loss = Tensor.Scalar(0f);
                foreach (var o in outs) loss = loss + (o * Tensor.RandN(g, o.ShapeArray())).Sum();
                loss.Backward();
                results[pass] = [.. outs.Select(o => o.ToArray()), x.Grad!.ToArray(), .. bi.Parameters().Select(p => p.Grad!.ToArray()),
                    .. (init ?? []).Select(s => s.Grad!.ToArray())];
            }
            finally { RecurrentLayer.ForceStepLoop = false; }
        }
        Assert.Equal(results[1].Count, results[0].Count);
        for (int i = 0; i < results[0].Count; i++) Numeric.AssertClose(results[1][i], results[0][i], 2e-5, $"{mode} result {i}");
    }

    /// <summary>The gradient of a gradient (createGraph runs the op's backward in differentiable ops) equals the step loop's.</summary>
    [Theory]
    [InlineData("ragged", false, false)]
    [InlineData("ragged", true, true)]
    [InlineData("none", true, false)]
    public void SecondOrderMatchesTheStepLoop(string mask, bool goBackwards, bool zeroOutputForMask)
    {
        var results = new float[2][][];
        for (int pass = 0; pass < 2; pass++)
        {
            RecurrentLayer.ForceStepLoop = pass == 1;
            try
            {
                var lstm = OpRegistry.Randomised(new Lstm(3, 5, returnSequences: true, goBackwards: goBackwards, generator: new Generator(11)), 12);
                lstm.ZeroOutputForMask = zeroOutputForMask;
                var x = Tensor.RandN(new Generator(13), [3, 4, 3]);
                x.RequiresGrad = true;
                var y = lstm.Forward(x, Mask(3, 4, mask));
                var loss = (y.Tanh() * Tensor.RandN(new Generator(14), y.ShapeArray())).Sum();
                var inputs = new[] { x, lstm.Kernel, lstm.RecurrentKernel, lstm.Bias! };
                var first = Autograd.Grad([loss], inputs, createGraph: true);
                var directional = first.Select((gr, k) => (gr! * Tensor.RandN(new Generator(20 + (ulong)k), gr!.ShapeArray())).Sum()).Aggregate((a, b) => a + b);
                var second = Autograd.Grad([directional], inputs, materializeUnused: true);
                results[pass] = [.. first.Select(t => t!.ToArray()), .. second.Select(t => t!.ToArray())];
            }
            finally { RecurrentLayer.ForceStepLoop = false; }
        }
        for (int i = 0; i < results[0].Length; i++) Numeric.AssertClose(results[1][i], results[0][i], 5e-5, $"{(i < 4 ? "first" : "second")} order, input {i % 4}");
    }

    private static (string Name, float[] Values)[] Run(Func<Lstm> make, int batch, int steps, string mask, bool initialStates, bool stepLoop)
    {
        RecurrentLayer.ForceStepLoop = stepLoop;
        try
        {
            var lstm = OpRegistry.Randomised(make(), 4);
            var g = new Generator(7);
            var x = Tensor.RandN(g, [batch, steps, 4]);
            x.RequiresGrad = true;
            Tensor[]? init = initialStates ? [Tensor.RandN(g, [batch, lstm.Units]), Tensor.RandN(g, [batch, lstm.Units])] : null;
            if (init is not null) foreach (var s in init) s.RequiresGrad = true;
            var outs = lstm.CallWithStates(x, Mask(batch, steps, mask), init);
            Tensor loss = Tensor.Scalar(0f);
            foreach (var o in outs) loss = loss + (o * Tensor.RandN(g, o.ShapeArray())).Sum();
            loss.Backward();
            var results = new List<(string, float[])> { ("output", outs[0].ToArray()), ("h", outs[1].ToArray()), ("c", outs[2].ToArray()), ("dx", x.Grad!.ToArray()) };
            results.AddRange(lstm.NamedParameters().Select(p => ($"d{p.Name}", p.Tensor.Grad!.ToArray())));
            if (init is not null) results.AddRange(init.Select((s, i) => ($"dinitial{i}", s.Grad!.ToArray())));
            return [.. results];
        }
        finally { RecurrentLayer.ForceStepLoop = false; }
    }

    /// <summary>A [B, T] mask: none, all on, all off, or ragged (a hole, a late start, a sample masked throughout when B > 2).</summary>
    private static Tensor? Mask(int batch, int steps, string kind)
    {
        if (kind == "none") return null;
        var m = new float[batch * steps];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++)
                m[b * steps + t] = kind switch
                {
                    "all on" => 1,
                    "all off" => 0,
                    _ => b switch { 0 => t == 1 ? 0 : 1, 1 => t < 2 ? 0 : 1, 2 => 0, _ => (b + t) % 3 == 0 ? 0 : 1 },
                };
        return Tensor.FromArray(m, [batch, steps]);
    }
}
