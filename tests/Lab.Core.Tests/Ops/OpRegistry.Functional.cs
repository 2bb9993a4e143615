using Lab.Core.Nn;

namespace Lab.Core.Tests.Ops;

/// <summary>
/// The functional API's ops and layers: BatchDot on every path (no copy, transposed read, permuted operand, vectors),
/// L2Normalize, and each merge and shape layer through its Forward, so that all of them are checked to second order.
/// </summary>
public static partial class OpRegistry
{
    private static IEnumerable<OpCase> FunctionalOps()
    {
        // BatchDot: a's contracted axis last / first / in the middle; b's first / last / in the middle.
        yield return new("BatchDotLastLast", [I(2, 3, 4), I(2, 5, 4)], t => Tensor.BatchDot(t[0], t[1], 2, 2), r => BatchDot(r[0], r[1], 2, 2));
        yield return new("BatchDotFirstFirst", [I(2, 4, 3), I(2, 4, 5)], t => Tensor.BatchDot(t[0], t[1], 1, 1), r => BatchDot(r[0], r[1], 1, 1));
        yield return new("BatchDotMiddle", [I(2, 3, 4, 2), I(2, 5, 4, 3)], t => Tensor.BatchDot(t[0], t[1], 2, 2), r => BatchDot(r[0], r[1], 2, 2));
        yield return new("BatchDotNegativeAxes", [I(3, 2, 4), I(3, 4, 2)], t => Tensor.BatchDot(t[0], t[1], -1, -2), r => BatchDot(r[0], r[1], 2, 1));
        yield return new("BatchDotVectors", [I(4, 3), I(4, 3)], t => Tensor.BatchDot(t[0], t[1], 1, 1), r => BatchDot(r[0], r[1], 1, 1));
        yield return new("BatchDotBatch1", [I(1, 3, 2), I(1, 3)], t => Tensor.BatchDot(t[0], t[1], 1, 1), r => BatchDot(r[0], r[1], 1, 1));
        yield return new("L2NormalizeLast", [I(3, 4)], t => t[0].L2Normalize(), r => L2Normalize(r[0], 1));
        yield return new("L2NormalizeMiddle", [I(2, 3, 4)], t => t[0].L2Normalize(1), r => L2Normalize(r[0], 1));

        // Merge layers (Keras's definitions) on two or three inputs, broadcasting and rank alignment included.
        yield return Layer("AddLayer3", new Add(), [I(2, 3), I(2, 3), I(2, 3)], r => Fold(r, (x, y) => x + y));
        yield return Layer("SubtractLayer", new Subtract(), [I(2, 3, 2), I(2, 3, 2)], r => R.Zip(r[0], r[1], (x, y) => x - y));
        yield return Layer("MultiplyLayerBroadcast", new Multiply(), [I(2, 3, 4), I(2, 1, 4)], r => R.Zip(r[0], r[1], (x, y) => x * y));
        yield return Layer("AverageLayer3", new Average(), [I(2, 4), I(2, 4), I(2, 4)], r => Fold(r, (x, y) => x + y).Map(v => v / 3));
        yield return Layer("MaximumLayer3", new Maximum(), [I(3, 4), I(3, 4), I(3, 4)], r => Fold(r, Math.Max));
        yield return Layer("MinimumLayer", new Minimum(), [I(2, 5), I(2, 5)], r => R.Zip(r[0], r[1], Math.Min));
        // (B, 3) against (B, 4, 3): Keras inserts the missing axis after the batch axis, giving (B, 1, 3).
        yield return Layer("AddLayerRanks", new Add(), [I(2, 3), I(2, 4, 3)], r => R.Zip(r[0].Reshape([2, 1, 3]), r[1], (x, y) => x + y));
        yield return Layer("ConcatenateLayer", new Concatenate(), [I(2, 3), I(2, 1), I(2, 2)], r => R.Concat([r[0], r[1], r[2]], 1));
        yield return Layer("ConcatenateLayerAxis1", new Concatenate(1), [I(2, 3, 2), I(2, 1, 2)], r => R.Concat([r[0], r[1]], 1));
        yield return Layer("DotLayer", new Dot(2), [I(2, 3, 4), I(2, 5, 4)], r => BatchDot(r[0], r[1], 2, 2));
        yield return Layer("DotLayerPair", new Dot((1, 2)), [I(2, 4, 3), I(2, 2, 4)], r => BatchDot(r[0], r[1], 1, 2));
        yield return Layer("DotLayerCosine", new Dot(2, normalize: true), [I(2, 3, 4), I(2, 5, 4)],
            r => BatchDot(L2Normalize(r[0], 2), L2Normalize(r[1], 2), 2, 2));
        yield return Layer("DotLayerCosineVectors", new Dot(1, normalize: true), [I(3, 5), I(3, 5)],
            r => BatchDot(L2Normalize(r[0], 1), L2Normalize(r[1], 1), 1, 1));

        // Shape and activation layers.
        yield return Layer("PermuteLayer", new Permute(2, 1), [I(2, 3, 4)], r => r[0].Permute([0, 2, 1]));
        yield return Layer("PermuteLayer3", new Permute(3, 1, 2), [I(2, 3, 2, 4)], r => r[0].Permute([0, 3, 1, 2]));
        yield return Layer("RepeatVectorLayer", new RepeatVector(3), [I(2, 4)], r => r[0].Reshape([2, 1, 4]).Expand([2, 3, 4]));
        yield return Layer("ReshapeLayerInfer", new Reshape(2, -1), [I(3, 6)], r => r[0].Reshape([3, 2, 3]));
        yield return Layer("ActivationLayerSoftmax", new ActivationLayer(Activation.Softmax), [I(2, 3, 4)], r => r[0].Softmax(-1, false));
        yield return Layer("ActivationLayerTanh", new ActivationLayer(Activation.Tanh), [I(3, 4)], r => r[0].Map(Math.Tanh));
        yield return Layer("LambdaLayer", new Lambda(x => x * x.Sigmoid()), [I(3, 4)], r => r[0].Map(v => v * Sigmoid(v)));
        yield return Layer("LambdaLayerTwoInputs", new Lambda(xs => xs[0] * xs[1].Exp()), [I(2, 3), I(2, 3)], r => R.Zip(r[0], r[1], (x, y) => x * Math.Exp(y)));
    }

    /// <summary>A layer as an op: one input through Call, several through the multi-input Forward.</summary>
    private static OpCase Layer(string name, Module layer, Input[] inputs, Func<R[], R> reference) =>
        new(name, inputs, t => t.Length == 1 && layer is not IMultiInputLayer ? layer.Call(t[0]) : ((IMultiInputLayer)layer).Forward(t), reference);

    private static R Fold(R[] rs, Func<double, double, double> f) => rs.Skip(1).Aggregate(rs[0], (acc, r) => R.Zip(acc, r, f));

    /// <summary>Keras's batch_dot written out: out[b, i..., j...] = Σ_k a[b, i..(k at axisA)..] · b[b, j..(k at axisB)..].</summary>
    internal static R BatchDot(R a, R b, int axisA, int axisB)
    {
        int[] restA = [.. a.Shape.Where((_, d) => d != 0 && d != axisA)], restB = [.. b.Shape.Where((_, d) => d != 0 && d != axisB)];
        int batch = a.Shape[0], k = a.Shape[axisA];
        int[] outShape = [batch, .. restA, .. restB];
        if (outShape.Length == 1) outShape = [batch, 1];
        var data = new double[R.Count(outShape)];
        int nA = R.Count(restA), nB = R.Count(restB);
        for (int n = 0; n < batch; n++)
            for (int i = 0; i < nA; i++)
                for (int j = 0; j < nB; j++)
                {
                    var ia = R.Unravel(i, restA);
                    var jb = R.Unravel(j, restB);
                    double sum = 0;
                    for (int c = 0; c < k; c++) sum += a.At(Insert(n, ia, axisA, c)) * b.At(Insert(n, jb, axisB, c));
                    data[(n * nA + i) * nB + j] = sum;
                }
        return new R(data, outShape);
    }

    /// <summary>The full index [n, rest...] with c put at axis.</summary>
    private static int[] Insert(int n, int[] rest, int axis, int c)
    {
        var idx = new List<int> { n };
        idx.AddRange(rest);
        idx.Insert(axis, c);
        return [.. idx];
    }

    internal static R L2Normalize(R x, int axis)
    {
        var norm = x.Map(v => v * v).Reduce([axis], true, g => Math.Sqrt(Math.Max(g.Sum(), 1e-12)));
        return R.Zip(x, norm, (v, s) => v / s);
    }
}
