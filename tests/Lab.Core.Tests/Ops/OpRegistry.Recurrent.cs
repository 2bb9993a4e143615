using Lab.Core.Nn;
using Lab.Core.Tests.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// The fused recurrent steps, the Select view, and the sequence layers end to end (their input differentiated to first
/// and second order through every step; references are Keras's equations in <see cref="RecurrentReference"/>).
/// </summary>
public static partial class OpRegistry
{
    private static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>The LSTM step on [B, 4H] projections: [2, B, H] (h, c).</summary>
    private static R LstmStep(R x, R r, R c)
    {
        int b = c.Shape[0], h = c.Shape[1];
        var y = new double[2 * b * h];
        for (int n = 0; n < b; n++)
            for (int j = 0; j < h; j++)
            {
                double A(int g) => x.Data[n * 4 * h + g * h + j] + r.Data[n * 4 * h + g * h + j];
                double cNew = Sig(A(1)) * c.Data[n * h + j] + Sig(A(0)) * Math.Tanh(A(2));
                y[b * h + n * h + j] = cNew;
                y[n * h + j] = Sig(A(3)) * Math.Tanh(cNew);
            }
        return new R(y, [2, b, h]);
    }

    /// <summary>The GRU step (reset after) on [B, 3H] projections: h [B, H].</summary>
    private static R GruStep(R x, R r, R hp)
    {
        int b = hp.Shape[0], h = hp.Shape[1];
        var y = new double[b * h];
        for (int n = 0; n < b; n++)
            for (int j = 0; j < h; j++)
            {
                double X(int g) => x.Data[n * 3 * h + g * h + j];
                double H(int g) => r.Data[n * 3 * h + g * h + j];
                double z = Sig(X(0) + H(0)), rg = Sig(X(1) + H(1));
                y[n * h + j] = z * hp.Data[n * h + j] + (1 - z) * Math.Tanh(X(2) + rg * H(2));
            }
        return new R(y, [b, h]);
    }

    /// <summary>
    /// The whole-sequence LSTM op written out: step s reads t = s (T - 1 - s going backwards), a masked sample (mask
    /// [T, B], time-major) keeps h and c, and its output is zero or repeats its previous output (zeros before the
    /// first). Rows: the outputs (step s at s, or at t in input order), then the final h and c.
    /// </summary>
    private static R LstmSequenceRef(R p, R u, R init, double[]? mask, bool goBackwards, bool zeroOutput, bool inInputOrder)
    {
        int steps = p.Shape[0], b = p.Shape[1], h = p.Shape[2] / 4;
        var y = new double[(steps + 2) * b * h];
        var hc = init.Data[..(b * h)];
        var cc = init.Data[(b * h)..];
        var previous = new double[b * h];
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            var xp = new R(p.Data[(t * b * 4 * h)..((t + 1) * b * 4 * h)], [b, 4 * h]);
            var next = LstmStep(xp, R.MatMul(new R(hc, [b, h]), u, false, false), new R(cc, [b, h])).Data;
            int row = (inInputOrder ? t : s) * b * h;
            for (int n = 0; n < b; n++)
            {
                bool keep = mask is null || mask[t * b + n] != 0;
                for (int j = 0; j < h; j++)
                {
                    int k = n * h + j;
                    if (keep) (hc[k], cc[k]) = (next[k], next[b * h + k]);
                    y[row + k] = keep ? next[k] : zeroOutput ? 0 : previous[k];
                    previous[k] = y[row + k];
                }
            }
        }
        hc.CopyTo(y, steps * b * h);
        cc.CopyTo(y, (steps + 1) * b * h);
        return new R(y, [steps + 2, b, h]);
    }

    private static OpCase LstmSequenceCase(string name, int steps, int batch, int hidden, double[]? mask, bool goBackwards, bool zeroOutput, bool inInputOrder) =>
        new(name, [I(steps, batch, 4 * hidden), I(hidden, 4 * hidden), I(2, batch, hidden)],
            t => Tensor.LstmSequence(t[0], t[1], t[2], mask is null ? null : MaskOn(mask, steps, t[0].Device), goBackwards, zeroOutput, inInputOrder),
            r => LstmSequenceRef(r[0], r[1], r[2], mask, goBackwards, zeroOutput, inInputOrder));

    /// <summary>Bidirectional's pair: a forward direction (outputs by step) and a backward one (outputs in input order), one mask.</summary>
    private static OpCase LstmSequencePairCase(string name, int steps, int batch, int hidden, double[]? mask, bool zeroOutput) =>
        new(name, [I(steps, batch, 4 * hidden), I(hidden, 4 * hidden), I(2, batch, hidden), I(steps, batch, 4 * hidden), I(hidden, 4 * hidden), I(2, batch, hidden)],
            t => Tensor.LstmSequencePair(t[0], t[1], t[2], false, false, t[3], t[4], t[5], true, true, mask is null ? null : MaskOn(mask, steps, t[0].Device), zeroOutput),
            r =>
            {
                var f = LstmSequenceRef(r[0], r[1], r[2], mask, false, zeroOutput, false);
                var b = LstmSequenceRef(r[3], r[4], r[5], mask, true, zeroOutput, true);
                return new R([.. f.Data, .. b.Data], [2, .. f.Shape]);
            });

    // Time-major masks [T, B]: a hole, a sample masked from the start, one masked throughout, one masked at the end.
    private static readonly double[] MaskTB = [1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0];   // [4, 3]
    private static readonly double[] MaskTB1 = [0, 1, 0];                            // [3, 1]

    // Ragged masks: right padding, a hole in the middle, a sample whose first steps are masked.
    private static readonly double[] MaskBT = [1, 1, 1, 0, 1, 0, 1, 1];      // [2, 4]
    private static readonly double[] MaskBT3 = [1, 1, 0, 1, 0, 0, 1, 1, 1];  // [3, 3]

    private static Tensor MaskOn(double[] mask, int batch, Device device)
        => Tensor.FromArray(Array.ConvertAll(mask, v => (float)v), [batch, mask.Length / batch], device);

    /// <summary>A layer case: the layer (seeded weights) moves to the input's device, so the CUDA check runs it too.</summary>
    private static OpCase LayerCase(string name, int[] xShape, Func<RecurrentLayer> make, Cell cell, RunOptions options, double[]? mask = null)
    {
        var on = Twins(make);
        return new OpCase(name, [I(xShape)], t => on(t[0].Device).Forward(t[0], mask is null ? null : MaskOn(mask, xShape[0], t[0].Device)), r =>
        {
            var layer = on(Device.Cpu);
            var (kernel, recurrent, bias) = Weights(layer);
            return RecurrentReference.Run(cell, r[0], kernel, recurrent, bias, layer.Units, options with { Mask = mask }).Output;
        });
    }

    /// <summary>
    /// One instance of a layer per device, each made by <paramref name="make"/> (seeded: the same weights): a CPU and a
    /// CUDA run of a case then each differentiate through their own weights. Moving one instance with To() would move
    /// the weights under the graph the other device's run still holds.
    /// </summary>
    internal static Func<Device, T> Twins<T>(Func<T> make) where T : Module
    {
        var instances = new Dictionary<Device, T>();
        return device =>
        {
            if (!instances.TryGetValue(device, out var layer)) instances[device] = layer = (T)make().To(device);
            return layer;
        };
    }

    internal static (R Kernel, R Recurrent, R? Bias) Weights(RecurrentLayer layer) =>
        (R.Of(layer.Kernel), R.Of(layer.RecurrentKernel), layer.Bias is null ? null : R.Of(layer.Bias));

    /// <summary>Random weights (biases included: Keras starts most of them at 0, which would hide a bias bug).</summary>
    internal static T Randomised<T>(T layer, ulong seed) where T : RecurrentLayer
    {
        var g = new Generator(seed);
        foreach (var p in layer.Parameters())
        {
            var v = Tensor.RandN(g, p.ShapeArray(), 0, 0.5f);
            p.Backend.Copy(v, p);
        }
        return layer;
    }

    private static OpCase BidirectionalCase(string name, MergeMode mode, Cell cell, Func<RecurrentLayer> make)
    {
        var on = Twins(() =>
        {
            var made = new Bidirectional(make(), mode);
            Randomised(made.Backwards, 77);
            return made;
        });
        var bi = on(Device.Cpu);
        var layer = bi.Forwards;
        var seq = new RunOptions(ReturnSequences: layer.ReturnSequences, ZeroOutputForMask: layer.ReturnSequences, Mask: MaskBT);
        return new OpCase(name, [I(2, 4, 3)], t =>
        {
            return on(t[0].Device).Forward(t[0], MaskOn(MaskBT, 2, t[0].Device));
        }, r =>
        {
            var (k1, u1, b1) = Weights(bi.Forwards);
            var (k2, u2, b2) = Weights(bi.Backwards);
            var f = RecurrentReference.Run(cell, r[0], k1, u1, b1, layer.Units, seq).Output;
            var b = RecurrentReference.Run(cell, r[0], k2, u2, b2, layer.Units, seq with { GoBackwards = true, InputOrder = true }).Output;
            return mode switch
            {
                MergeMode.Concat => R.Concat([f, b], f.Shape.Length - 1),
                MergeMode.Sum => R.Zip(f, b, (p, q) => p + q),
                MergeMode.Mul => R.Zip(f, b, (p, q) => p * q),
                _ => R.Zip(f, b, (p, q) => (p + q) / 2),
            };
        });
    }

    private static IEnumerable<OpCase> Recurrent()
    {
        yield return new("LstmCell[3,2]", [I(3, 8), I(3, 8), I(3, 2)], t => Tensor.LstmCell(t[0], t[1], t[2]), r => LstmStep(r[0], r[1], r[2]));
        yield return new("LstmCell[1,5]", [I(1, 20), I(1, 20), I(1, 5)], t => Tensor.LstmCell(t[0], t[1], t[2]), r => LstmStep(r[0], r[1], r[2]));
        // Unit counts past one vector with a tail (the CPU kernel's vector loops and scalar remainders).
        yield return new("LstmCell[3,19]", [I(3, 76), I(3, 76), I(3, 19)], t => Tensor.LstmCell(t[0], t[1], t[2]), r => LstmStep(r[0], r[1], r[2]));
        yield return new("LstmCell[1,37]", [I(1, 148), I(1, 148), I(1, 37)], t => Tensor.LstmCell(t[0], t[1], t[2]), r => LstmStep(r[0], r[1], r[2]));
        // The step's state read through Select, as the layer does: h and c each feed on.
        yield return new("LstmCellSelect[2,3]", [I(2, 12), I(2, 12), I(2, 3)], t =>
        {
            var s = Tensor.LstmCell(t[0], t[1], t[2]);
            return s.Select(0) * s.Select(1) + s.Select(1);
        }, r =>
        {
            var s = LstmStep(r[0], r[1], r[2]);
            int n = s.Numel / 2;
            return new R(Enumerable.Range(0, n).Select(k => s.Data[k] * s.Data[n + k] + s.Data[n + k]).ToArray(), [2, 3]);
        });
        // The whole-sequence op, every input differentiated (the layer cases below differentiate x only).
        yield return LstmSequenceCase("LstmSequence[4,3,5]", 4, 3, 5, null, false, false, false);
        yield return LstmSequenceCase("LstmSequenceBackwards[4,3,5]", 4, 3, 5, null, true, false, false);
        yield return LstmSequenceCase("LstmSequenceMaskedRepeat[4,3,5]", 4, 3, 5, MaskTB, false, false, false);
        yield return LstmSequenceCase("LstmSequenceMaskedZeroBackwardsInputOrder[4,3,5]", 4, 3, 5, MaskTB, true, true, true);
        yield return LstmSequenceCase("LstmSequenceMaskedRepeatBackwards[3,1,19]", 3, 1, 19, MaskTB1, true, false, false);
        yield return LstmSequenceCase("LstmSequenceAllMasked[3,1,2]", 3, 1, 2, [0, 0, 0], false, false, true);
        yield return LstmSequencePairCase("LstmSequencePairMaskedZero[4,3,5]", 4, 3, 5, MaskTB, true);
        yield return LstmSequencePairCase("LstmSequencePairMaskedRepeat[4,3,5]", 4, 3, 5, MaskTB, false);
        yield return LstmSequencePairCase("LstmSequencePair[2,1,3]", 2, 1, 3, null, false);
        yield return new("GruCell[3,2]", [I(3, 6), I(3, 6), I(3, 2)], t => Tensor.GruCell(t[0], t[1], t[2]), r => GruStep(r[0], r[1], r[2]));
        yield return new("GruCell[2,4]", [I(2, 12), I(2, 12), I(2, 4)], t => Tensor.GruCell(t[0], t[1], t[2]), r => GruStep(r[0], r[1], r[2]));
        yield return new("GruCell[3,19]", [I(3, 57), I(3, 57), I(3, 19)], t => Tensor.GruCell(t[0], t[1], t[2]), r => GruStep(r[0], r[1], r[2]));
        yield return new("GruCell[1,37]", [I(1, 111), I(1, 111), I(1, 37)], t => Tensor.GruCell(t[0], t[1], t[2]), r => GruStep(r[0], r[1], r[2]));
        yield return new("Select0[3,4,2]", [I(3, 4, 2)], t => t[0].Select(1), r => r[0].Narrow(0, 1, 1).Reshape([4, 2]));
        yield return new("SelectLast[4,3]", [I(4, 3)], t => t[0].Select(3), r => r[0].Narrow(0, 3, 1).Reshape([3]));

        yield return LayerCase("LayerLstmSequences[2,4,3]", [2, 4, 3], () => Randomised(new Lstm(3, 3, returnSequences: true, generator: new Generator(1)), 11),
            Cell.Lstm, new RunOptions(ReturnSequences: true));
        yield return LayerCase("LayerLstmBackwardsMasked[2,4,3]", [2, 4, 3], () => Randomised(new Lstm(3, 2, goBackwards: true, generator: new Generator(2)), 12),
            Cell.Lstm, new RunOptions(GoBackwards: true), MaskBT);
        yield return LayerCase("LayerLstmSequencesMasked[3,3,2]", [3, 3, 2], () => Randomised(new Lstm(2, 3, returnSequences: true, generator: new Generator(3)), 13),
            Cell.Lstm, new RunOptions(ReturnSequences: true), MaskBT3);
        yield return LayerCase("LayerGruSequences[2,4,3]", [2, 4, 3], () => Randomised(new Gru(3, 3, returnSequences: true, generator: new Generator(4)), 14),
            Cell.Gru, new RunOptions(ReturnSequences: true));
        yield return LayerCase("LayerGruMasked[2,4,3]", [2, 4, 3], () => Randomised(new Gru(3, 2, generator: new Generator(5)), 15),
            Cell.Gru, new RunOptions(), MaskBT);
        yield return LayerCase("LayerGruResetBefore[2,4,3]", [2, 4, 3], () => Randomised(new Gru(3, 3, returnSequences: true, goBackwards: true, resetAfter: false, generator: new Generator(6)), 16),
            Cell.GruResetBefore, new RunOptions(ReturnSequences: true, GoBackwards: true));
        yield return LayerCase("LayerGruResetBeforeMasked[3,3,2]", [3, 3, 2], () => Randomised(new Gru(2, 2, resetAfter: false, generator: new Generator(7)), 17),
            Cell.GruResetBefore, new RunOptions(), MaskBT3);
        yield return LayerCase("LayerSimpleRnnSequences[2,4,3]", [2, 4, 3], () => Randomised(new SimpleRnn(3, 4, returnSequences: true, generator: new Generator(8)), 18),
            Cell.SimpleRnn, new RunOptions(ReturnSequences: true), MaskBT);
        yield return LayerCase("LayerSimpleRnnBackwards[1,5,2]", [1, 5, 2], () => Randomised(new SimpleRnn(2, 3, goBackwards: true, generator: new Generator(9)), 19),
            Cell.SimpleRnn, new RunOptions(GoBackwards: true));

        yield return BidirectionalCase("BidirectionalLstmSum[2,4,3]", MergeMode.Sum, Cell.Lstm, () => Randomised(new Lstm(3, 2, generator: new Generator(20)), 21));
        yield return BidirectionalCase("BidirectionalLstmConcatSequences[2,4,3]", MergeMode.Concat, Cell.Lstm,
            () => Randomised(new Lstm(3, 2, returnSequences: true, generator: new Generator(22)), 23));
        yield return BidirectionalCase("BidirectionalGruMulSequences[2,4,3]", MergeMode.Mul, Cell.Gru,
            () => Randomised(new Gru(3, 2, returnSequences: true, generator: new Generator(24)), 25));
        yield return BidirectionalCase("BidirectionalSimpleRnnAve[2,4,3]", MergeMode.Ave, Cell.SimpleRnn,
            () => Randomised(new SimpleRnn(3, 3, generator: new Generator(26)), 27));
    }

    /// <summary>Channels-last 1-D convolution written out: x [B, T, C] padded by (left, right), w [F, C, k].</summary>
    private static R Conv1dRef(R x, R w, R? bias, int stride, int dilation, int left, int right)
    {
        int b = x.Shape[0], t = x.Shape[1], c = x.Shape[2], f = w.Shape[0], k = w.Shape[2];
        int padded = t + left + right, outT = (padded - dilation * (k - 1) - 1) / stride + 1;
        var y = new double[b * outT * f];
        for (int n = 0; n < b; n++)
            for (int o = 0; o < outT; o++)
                for (int fi = 0; fi < f; fi++)
                {
                    double v = bias?.Data[fi] ?? 0;
                    for (int i = 0; i < k; i++)
                    {
                        int step = o * stride + i * dilation - left;
                        if (step < 0 || step >= t) continue;
                        for (int ci = 0; ci < c; ci++) v += x.Data[(n * t + step) * c + ci] * w.Data[(fi * c + ci) * k + i];
                    }
                    y[(n * outT + o) * f + fi] = v;
                }
        return new R(y, [b, outT, f]);
    }

    private static OpCase Conv1dCase(string name, int[] xShape, Conv1d layer)
    {
        var g = new Generator(31);
        if (layer.Bias is { } bias) bias.Backend.Copy(Tensor.RandN(g, bias.ShapeArray()), bias);
        return new OpCase(name, [I(xShape)], t => { layer.To(t[0].Device); return layer.Forward(t[0]); }, r =>
        {
            var (left, right) = layer.PaddingFor(xShape[1]);
            return Conv1dRef(r[0], R.Of(layer.Weight), layer.Bias is null ? null : R.Of(layer.Bias), layer.Strides, layer.Dilation, left, right);
        });
    }

    private static IEnumerable<OpCase> SequenceLayers()
    {
        yield return Conv1dCase("Conv1dValid[2,7,3]", [2, 7, 3], new Conv1d(3, 4, 3, generator: new Generator(40)));
        yield return Conv1dCase("Conv1dSameStride2[2,7,2]", [2, 7, 2], new Conv1d(2, 3, 4, strides: 2, padding: Padding1d.Same, generator: new Generator(41)));
        yield return Conv1dCase("Conv1dSameEven[1,6,2]", [1, 6, 2], new Conv1d(2, 2, 2, padding: Padding1d.Same, generator: new Generator(42)));
        yield return Conv1dCase("Conv1dCausalDilated[2,6,2]", [2, 6, 2], new Conv1d(2, 3, 3, padding: Padding1d.Causal, dilation: 2, generator: new Generator(43)));
        yield return Conv1dCase("Conv1dNoBias[1,5,3]", [1, 5, 3], new Conv1d(3, 2, 2, useBias: false, generator: new Generator(44)));

        yield return new("GlobalAveragePooling1d[2,4,3]", [I(2, 4, 3)], t => new GlobalAveragePooling1d().Forward(t[0]),
            r => r[0].Reduce([1], false, v => v.Average()));
        yield return new("GlobalAveragePooling1dMasked[2,4,3]", [I(2, 4, 3)], t => new GlobalAveragePooling1d().Forward(t[0], MaskOn(MaskBT, 2, t[0].Device)),
            r => MaskedReduce(r[0], MaskBT, v => v.Average()));
        yield return new("GlobalMaxPooling1d[2,4,3]", [I(2, 4, 3)], t => new GlobalMaxPooling1d().Forward(t[0]),
            r => r[0].Reduce([1], false, v => v.Max()), NoSecondOrder: "max picks one element: its second derivative is zero almost everywhere");
        yield return new("GlobalMaxPooling1dMasked[2,4,3]", [I(2, 4, 3)], t => new GlobalMaxPooling1d().Forward(t[0], MaskOn(MaskBT, 2, t[0].Device)),
            r => MaskedReduce(r[0], MaskBT, v => v.Max()), NoSecondOrder: "max picks one element: its second derivative is zero almost everywhere");
        var denseOn = Twins(() => new Linear(3, 2, Activation.Tanh, generator: new Generator(45)));
        var dense = denseOn(Device.Cpu);
        yield return new("TimeDistributedLinear[2,4,3]", [I(2, 4, 3)], t => new TimeDistributed(denseOn(t[0].Device)).Forward(t[0]),
            r => R.Zip(R.MatMul(r[0], R.Of(dense.Weight), false, true), R.Of(dense.Bias!), (a, b) => a + b).Map(Math.Tanh));
    }

    /// <summary>A reduction over the time axis of [B, T, C] that sees only the kept steps.</summary>
    private static R MaskedReduce(R x, double[] mask, Func<List<double>, double> f)
    {
        int b = x.Shape[0], t = x.Shape[1], c = x.Shape[2];
        var y = new double[b * c];
        for (int n = 0; n < b; n++)
            for (int ci = 0; ci < c; ci++)
                y[n * c + ci] = f(Enumerable.Range(0, t).Where(s => mask[n * t + s] != 0).Select(s => x.Data[(n * t + s) * c + ci]).ToList());
        return new R(y, [b, c]);
    }
}
