using Lab.Core.Autodiff;
using Lab.Core.Nn;
using static Lab.Core.Nn.Functional;

namespace Lab.Core.Tests.FunctionalModels;

/// <summary>Building functional models: shapes and errors at build time, values, shared layers' gradients, summary and graph.</summary>
public class FunctionalModelTests
{
    private static Linear Dense(int i, int o, string? name = null, Activation a = Activation.None, ulong seed = 1) =>
        new(i, o, a, generator: new Generator(seed)) { Name = name };

    private static Tensor Rand(ulong seed, params int[] shape) => Tensor.RandN(new Generator(seed), shape);

    [Fact]
    public void AShapeMismatchIsReportedWhenTheLayerIsCalledNamingTheLayerAndBothShapes()
    {
        var a = Input([30], name: "a");
        var e = Assert.Throws<ArgumentException>(() => Dense(20, 5, "dense_2").Call(a));
        Assert.Equal("Linear 'dense_2': input shape (None, 30) does not match the layer's (None, 20).", e.Message);
    }

    [Fact]
    public void MergeLayersCheckTheirInputsAtBuildTime()
    {
        var (a, b) = (Input([3], name: "a"), Input([4], name: "b"));
        var add = Assert.Throws<ArgumentException>(() => new Add { Name = "sum" }.Call(a, b));
        Assert.Contains("Add 'sum'", add.Message);
        Assert.Contains("(None, 3), (None, 4)", add.Message);
        Assert.Contains("takes exactly 2 inputs, got 3", Assert.Throws<ArgumentException>(() => new Subtract().Call(a, a, a)).Message);
        Assert.Contains("takes at least 2 inputs, got 1", Assert.Throws<ArgumentException>(() => new Multiply().Call(a)).Message);
        var c = Input([2, 5], name: "c");
        Assert.Contains("inputs of different ranks", Assert.Throws<ArgumentException>(() => new Concatenate().Call(a, c)).Message);
        Assert.Contains("differ along the dot axes (1, 1): 3 vs 4", Assert.Throws<ArgumentException>(() => new Dot(1).Call(a, b)).Message);
        Assert.Contains("batch axis", Assert.Throws<ArgumentException>(() => new Concatenate(0).Call(a, a)).Message);
        Assert.Contains("takes one input, got 2", Assert.Throws<ArgumentException>(() => Dense(3, 2).Call(a, a)).Message);
    }

    [Fact]
    public void ALayerWithoutAShapeRuleIsCheckedByRunningItAndTheErrorNamesIt()
    {
        var images = Input([3, 8, 8], name: "images");
        var conv = new Conv2d(1, 4, 3) { Name = "conv" };
        var e = Assert.Throws<ArgumentException>(() => conv.Call(images));
        Assert.StartsWith("Conv2d 'conv': cannot take input shape (None, 3, 8, 8):", e.Message);
        var ok = new Conv2d(3, 4, 3, padding: 1).Call(images);
        Assert.Equal([null, 4, 8, 8], ok.Shape);
    }

    [Fact]
    public void UnknownLengthsStayUnknownThroughLayers()
    {
        var seq = Input([null, 4], name: "seq");
        Assert.Equal([null, null, 2], Dense(4, 2).Call(seq).Shape);
        Assert.Equal([null, 4], new Lambda(x => x.Sum(1)).Call(seq).Shape);          // inferred by running: the length is summed away
        Assert.Equal([null, null], new Lambda(x => x.Flatten(1)).Call(seq).Shape);     // the product of an unknown length is unknown
        Assert.Equal([null, 4, null], new Permute(2, 1).Call(seq).Shape);
        Assert.Equal([null, 7, 4], new RepeatVector(7).Call(Input([4])).Shape);
        Assert.Equal([null, 2, 6], new Reshape(2, -1).Call(Input([3, 4])).Shape);
        Assert.Equal([16, 4], Input([4], batchSize: 16).Shape);
    }

    [Fact]
    public void AnOutputNotReachableFromTheInputsIsADisconnectedGraph()
    {
        var (a, b) = (Input([3], name: "a"), Input([3], name: "b"));
        var y = Dense(6, 1, "head").Call(new Concatenate { Name = "joined" }.Call(a, b));
        var e = Assert.Throws<ArgumentException>(() => new Model(a, y, name: "m"));
        Assert.Equal("Model 'm': graph disconnected: layer 'joined' needs input 'b' (None, 3), which is not among the model's inputs ('a').", e.Message);
    }

    [Fact]
    public void NamesMustBeUniqueAndInputsMustBeInputs()
    {
        var a = Input([3], name: "a");
        var y = Dense(3, 3, "same").Call(Dense(3, 3, "same").Call(a));
        Assert.Contains("two layers are named 'same'", Assert.Throws<ArgumentException>(() => new Model(a, y)).Message);
        var h = Dense(3, 2).Call(a);
        Assert.Contains("is not an Input(...) tensor", Assert.Throws<ArgumentException>(() => new Model(h, Dense(2, 1).Call(h))).Message);
        Assert.Contains("is given twice", Assert.Throws<ArgumentException>(() => new Model([a, a], [h])).Message);
        var a2 = Input([3], name: "a");
        Assert.Contains("two inputs are named 'a'", Assert.Throws<ArgumentException>(() => new Model([a, a2], [new Add().Call(a, a2)])).Message);
    }

    [Fact]
    public void LayersWithoutANameGetKerasStyleNames()
    {
        var a = Input([3]);
        var (d1, d2) = (new Linear(3, 3), new Linear(3, 3));
        d2.Call(d1.Call(a));
        Assert.Matches("^linear(_[0-9]+)?$", d1.Name);
        Assert.Matches("^linear_[0-9]+$", d2.Name);
        Assert.NotEqual(d1.Name, d2.Name);
        var act = new ActivationLayer(Activation.Relu);
        act.Call(a);
        Assert.Matches("^activation(_[0-9]+)?$", act.Name);
        Assert.Matches("^input(_[0-9]+)?$", a.Name);
    }

    [Fact]
    public void RunningTheModelWithAWrongInputNamesTheInputAndShapes()
    {
        var a = Input([20], name: "a");
        var model = new Model(a, Dense(20, 2).Call(a), name: "m");
        var e = Assert.Throws<ArgumentException>(() => model.Call(Rand(1, 4, 30)));
        Assert.Equal("Model 'm': input 'a' expects shape (None, 20), got [4, 30].", e.Message);
        Assert.Contains("expects 1 inputs (a), got 2", Assert.Throws<ArgumentException>(() => model.Call([Rand(1, 4, 20), Rand(2, 4, 20)])).Message);
    }

    /// <summary>Two inputs through one shared layer, two outputs: the values a hand-written forward gives with the same layers.</summary>
    [Fact]
    public void TwoInputsTwoOutputsAndASharedLayerComputeWhatTheGraphSays()
    {
        var (a, b) = (Input([4], name: "a"), Input([4], name: "b"));
        var shared = Dense(4, 5, "shared", Activation.Tanh);
        var (ha, hb) = (shared.Call(a), shared.Call(b));
        var head1 = Dense(10, 1, "diff", seed: 2);
        var head2 = Dense(5, 3, "prod", seed: 3);
        var model = new Model([a, b], [head1.Call(new Concatenate().Call(ha, hb)), head2.Call(new Multiply().Call(ha, hb))]);

        var (xa, xb) = (Rand(4, 6, 4), Rand(5, 6, 4));
        var outs = model.Predict(xa, xb);
        using var _ = new NoGrad();
        var (ra, rb) = (shared.Forward(xa), shared.Forward(xb));
        Numeric.AssertClose(head1.Forward(Tensor.Concat([ra, rb], 1)).ToArray(), outs[0].ToArray(), 1e-6, "diff");
        Numeric.AssertClose(head2.Forward(ra * rb).ToArray(), outs[1].ToArray(), 1e-6, "prod");
        Assert.Equal(["a", "b"], model.InputNames);
        Assert.Equal(["diff", "prod"], model.OutputNames);
        Assert.Equal(["shared", "concatenate", "diff", "multiply", "prod"], model.NamedChildren().Select(c => c.Name.Split('_')[0]));
        Assert.Equal(4 * 5 + 5 + 10 + 1 + 5 * 3 + 3, model.ParameterCount());   // the shared layer's weights once
    }

    /// <summary>
    /// The gradient a shared layer receives is the sum over its uses: against two separate copies of the layer (their
    /// gradients added), and against central differences of the loss in double precision for some weights.
    /// </summary>
    [Fact]
    public void ASharedLayersGradientIsTheSumOverItsUses()
    {
        var (a, b) = (Input([3], name: "a"), Input([3], name: "b"));
        var shared = Dense(3, 4, "shared", Activation.Tanh);
        var model = new Model([a, b], [new Add().Call(shared.Call(a), new Multiply().Call(shared.Call(b), shared.Call(b)))]);
        var (xa, xb, v) = (Rand(7, 5, 3), Rand(8, 5, 3), Rand(9, 5, 4));
        (model.Call([xa, xb])[0] * v).Sum().Backward();
        var grad = shared.Weight.Grad!.ToArray();

        var copy1 = Dense(3, 4, "c1", Activation.Tanh);
        var copy2 = Dense(3, 4, "c2", Activation.Tanh);
        var copy3 = Dense(3, 4, "c3", Activation.Tanh);
        ((copy1.Forward(xa) + copy2.Forward(xb) * copy3.Forward(xb)) * v).Sum().Backward();
        var summed = copy1.Weight.Grad! + copy2.Weight.Grad! + copy3.Weight.Grad!;
        Numeric.AssertClose(summed.ToArray(), grad, 1e-6, "shared = sum of copies");
        Assert.True(copy2.Weight.Grad!.Abs().Sum().Item() > 0.1f, "each use contributes");

        // Central differences in double: L(W) = Σ v·(tanh(xa Wᵀ + c) + tanh(xb Wᵀ + c)²).
        var (w, c) = (shared.Weight.ToArray(), shared.Bias!.ToArray());
        var (da, db, dv) = (xa.ToArray(), xb.ToArray(), v.ToArray());
        double Loss(double[] weights)
        {
            double sum = 0;
            for (int n = 0; n < 5; n++)
                for (int o = 0; o < 4; o++)
                {
                    double sa = c[o], sb = c[o];
                    for (int i = 0; i < 3; i++) { sa += da[n * 3 + i] * weights[o * 3 + i]; sb += db[n * 3 + i] * weights[o * 3 + i]; }
                    sum += dv[n * 4 + o] * (Math.Tanh(sa) + Math.Tanh(sb) * Math.Tanh(sb));
                }
            return sum;
        }
        var wd = Array.ConvertAll(w, x => (double)x);
        for (int k = 0; k < wd.Length; k++)
        {
            var (plus, minus) = ((double[])wd.Clone(), (double[])wd.Clone());
            plus[k] += 1e-6;
            minus[k] -= 1e-6;
            double numeric = (Loss(plus) - Loss(minus)) / 2e-6;
            Assert.True(Math.Abs(numeric - grad[k]) < 1e-4 * (1 + Math.Abs(numeric)), $"dW[{k}]: numeric {numeric}, autograd {grad[k]}");
        }
    }

    [Fact]
    public void AResidualBlockAddsItsInputToTheBranch()
    {
        var x = Input([6], name: "x");
        var (l1, l2) = (Dense(6, 6, "l1", Activation.Relu, 1), Dense(6, 6, "l2", seed: 2));
        var model = new Model(x, new ActivationLayer(Activation.Relu).Call(new Add().Call(l2.Call(l1.Call(x)), x)));
        var input = Rand(3, 4, 6);
        var y = model.Call(input);
        using var _ = new NoGrad();
        Numeric.AssertClose((l2.Forward(l1.Forward(input)) + input).Relu().ToArray(), y.ToArray(), 1e-6, "residual");
    }

    /// <summary>Notebook 002's Inception module: parallel branches over one input, concatenated along the channels.</summary>
    [Fact]
    public void InceptionBranchesConcatenateAlongTheChannels()
    {
        var x = Input([3, 8, 8], name: "x");
        var a = new Conv2d(3, 4, 1, stride: 2, activation: Activation.Relu, generator: new Generator(1)) { Name = "branch_a" };
        var b1 = new Conv2d(3, 4, 1, activation: Activation.Relu, generator: new Generator(2)) { Name = "branch_b1" };
        var b2 = new Conv2d(4, 5, 3, stride: 2, padding: 1, activation: Activation.Relu, generator: new Generator(3)) { Name = "branch_b2" };
        var pool = new AvgPool2d(3, 2, 1) { Name = "branch_c_pool" };
        var c = new Conv2d(3, 2, 1, generator: new Generator(4)) { Name = "branch_c" };
        var joined = new Concatenate(1) { Name = "joined" }.Call(a.Call(x), b2.Call(b1.Call(x)), c.Call(pool.Call(x)));
        Assert.Equal([null, 11, 4, 4], joined.Shape);
        var model = new Model(x, joined);
        var input = Rand(5, 2, 3, 8, 8);
        var y = model.Call(input);
        Assert.Equal([2, 11, 4, 4], y.ShapeArray());
        using var _ = new NoGrad();
        var expected = Tensor.Concat([a.Forward(input), b2.Forward(b1.Forward(input)), c.Forward(pool.Forward(input))], 1);
        Numeric.AssertClose(expected.ToArray(), y.ToArray(), 1e-6, "inception");
    }

    /// <summary>A model used as a layer of another (a siamese encoder called on two inputs): its weights once, under its name.</summary>
    [Fact]
    public void AModelCanBeALayerOfAnotherModel()
    {
        var x = Input([4], name: "x");
        var encoder = new Model(x, Dense(4, 3, "proj", Activation.Tanh).Call(x), name: "encoder");
        var (left, right) = (Input([4], name: "left"), Input([4], name: "right"));
        var (el, er) = (encoder.Call(left), encoder.Call(right));
        Assert.Equal([null, 3], el.Shape);
        var cosine = new Dot(1, normalize: true) { Name = "cosine" }.Call(el, er);
        Assert.Equal([null, 1], cosine.Shape);
        var siamese = new Model([left, right], [cosine], name: "siamese");
        Assert.Equal(["encoder.proj.weight", "encoder.proj.bias"], siamese.StateDict().Select(p => p.Name));

        var (l, r) = (Rand(1, 5, 4), Rand(2, 5, 4));
        var y = siamese.Predict(l, r)[0];
        var (pl, pr) = (encoder.Predict(l)[0].ToArray(), encoder.Predict(r)[0].ToArray());
        for (int n = 0; n < 5; n++)
        {
            double dot = 0, nl = 0, nr = 0;
            for (int i = 0; i < 3; i++) { dot += pl[n * 3 + i] * pr[n * 3 + i]; nl += pl[n * 3 + i] * pl[n * 3 + i]; nr += pr[n * 3 + i] * pr[n * 3 + i]; }
            Assert.Equal(dot / Math.Sqrt(nl * nr), y[n, 0], 5);
        }
        // A layer reached directly and through the nested model would be stepped twice: refused.
        var proj = encoder.GetLayer("proj");
        var both = new Add().Call(encoder.Call(left), proj.Call(left));
        Assert.Contains("updated twice", Assert.Throws<ArgumentException>(() => new Model(left, both)).Message);
    }

    [Fact]
    public void DotOverBatchesOfMatricesHasKerasShapes()
    {
        var (q, v) = (Input([30, 400], name: "q"), Input([20, 400], name: "v"));
        var scores = new Dot(2).Call(q, v);
        Assert.Equal([null, 30, 20], scores.Shape);
        var model = new Model([q, v], [scores]);
        var y = model.Call([Rand(1, 32, 30, 400), Rand(2, 32, 20, 400)])[0];
        Assert.Equal([32, 30, 20], y.ShapeArray());
        // normalize: the cosine of [1, 0] and [1, 1] is 1/√2, and a zero vector gives 0, not NaN.
        var cos = new Dot(1, normalize: true).Forward([Tensor.FromArray([1f, 0, 0, 0], [2, 2]), Tensor.FromArray([1f, 1, 3, 4], [2, 2])]);
        Assert.Equal([2, 1], cos.ShapeArray());
        Assert.Equal(1 / Math.Sqrt(2), cos[0, 0], 6);
        Assert.Equal(0f, cos[1, 0]);
    }

    [Fact]
    public void SummaryHasKerasConnectedToColumn()
    {
        var (a, b) = (Input([4], name: "a"), Input([4], name: "b"));
        var shared = Dense(4, 5, "shared");
        var joined = new Concatenate { Name = "joined" }.Call(shared.Call(a), shared.Call(b));
        var model = new Model([a, b], [Dense(10, 1, "out").Call(joined)], name: "twin");
        var rows = FunctionalSummary.Rows(model);
        Assert.Equal(["a", "b", "shared", "joined", "out"], rows.Select(r => r.Name));
        Assert.Equal(["a[0][0]", "b[0][0]"], rows[2].ConnectedTo);
        Assert.Equal(["shared[0][0]", "shared[1][0]"], rows[3].ConnectedTo);
        Assert.Equal("(None, 10)", rows[3].OutputShape);
        Assert.Equal("[(None, 4)]", rows[0].OutputShape);

        var table = model.Summary();
        Assert.True(table.HasConnections);
        Assert.Equal("shared[0][0], shared[1][0]", table.Rows[3].ConnectedTo);
        Assert.Equal(36, table.TotalParams);
        var text = FunctionalSummary.Render(model);
        var lines = text.Split('\n');
        Assert.Equal("Model: \"twin\"", lines[0]);
        Assert.Matches(@"^ Layer \(type\) +Output Shape +Param # +Connected to$", lines[2]);
        Assert.Matches(@"^ shared \(Linear\) +\(None, 5\) +25 +\['a\[0\]\[0\]', 'b\[0\]\[0\]'\]$", lines.Single(l => l.Contains("shared (Linear)")));
        Assert.Matches(@"^ joined \(Concatenate\) +\(None, 10\) +0 +\['shared\[0\]\[0\]', 'shared\[1\]\[0\]'\]$", lines.Single(l => l.Contains("joined (Concatenate)")));
        Assert.Contains("Total params: 36", text);
        Assert.Contains("Trainable params: 36", text);
        Assert.Contains("Non-trainable params: 0", text);
    }

    [Fact]
    public void TheGraphHasABoxPerLayerAndAnEdgePerConnection()
    {
        var (a, b) = (Input([4], name: "a"), Input([4], name: "b"));
        var shared = Dense(4, 5, "shared");
        var model = new Model([a, b], [new Add { Name = "sum" }.Call(shared.Call(a), shared.Call(b))]);
        var graph = model.Graph();
        Assert.Equal(["a", "b", "shared", "sum"], graph.Layers.Select(l => l.Name));
        Assert.Equal([(0, 2), (1, 2), (2, 3)], graph.Edges);
        Assert.Equal("(None, 4)", graph.Layers[2].InputShape);
        Assert.Equal("(None, 5)", graph.Layers[2].OutputShape);
        var dot = graph.ToDot();
        Assert.Contains("n2 [label=\"{shared: Linear|{input:|output:}|{(None, 4)|(None, 5)}}\"];", dot);
        Assert.Contains("n2 -> n3;", dot);
        Assert.StartsWith("digraph", dot);
    }

    [Fact]
    public void SymbolicOperatorsAddMergeLayers()
    {
        var (a, b) = (Input([3], name: "a"), Input([3], name: "b"));
        var model = new Model([a, b], [(a + b) * (a - b)]);
        var (x, y) = (Rand(1, 2, 3), Rand(2, 2, 3));
        Numeric.AssertClose(((x + y) * (x - y)).ToArray(), model.Predict(x, y)[0].ToArray(), 1e-6, "operators");
        Assert.Equal(["Add", "Subtract", "Multiply"], model.Layers.Select(l => l.GetType().Name));
    }
}
