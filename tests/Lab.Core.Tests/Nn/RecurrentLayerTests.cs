using Lab.Core.Autodiff;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

/// <summary>
/// The sequence layers beyond the op registry: notebook 004's cells, states, weight gradients against finite
/// differences of Keras's equations, masks from Embedding(maskZero), initialisers, dropout, allocation, errors.
/// </summary>
public class RecurrentLayerTests
{
    private static Tensor Ids(int batch, int steps) => Tensor.Arange(0, batch * steps).Reshape(batch, steps);

    // ---- notebook 004's cells ----

    [Fact]
    public void EmbeddingOfAnIdMatrixHasOneVectorPerId()
    {
        var model = new Sequential(new Embedding(1000, 100));
        var ids = Ids(32, 20);
        var output = model.Call(ids);
        Assert.Equal([32, 20, 100], output.ShapeArray());
        // Row (b, t) is the embedding of id 20 b + t.
        var table = ((Embedding)model[0]).Embeddings;
        Assert.Equal(table.Narrow(0, 47, 1).ToArray(), output.Narrow(0, 2, 1).Narrow(1, 7, 1).ToArray());
    }

    [Fact]
    public void SoftmaxOverAxisTwoSumsToOne()
    {
        var y = Tensor.Ones(12, 20, 5).Softmax(2);
        var sums = y.Sum(2).ToArray();
        Assert.Equal(12 * 20, sums.Length);
        Assert.All(sums, s => Assert.Equal(1f, s, 1e-6f));
        Assert.All(y.ToArray(), v => Assert.Equal(0.2f, v, 1e-6f));
    }

    [Fact]
    public void NotebookRecurrentModelsGiveKerasShapes()
    {
        using var _ = new NoGrad();
        var ids = Ids(32, 20);
        Assert.Equal([32, 20, 200], new Sequential(new Embedding(1000, 100), new SimpleRnn(100, 200, returnSequences: true)).Call(ids).ShapeArray());
        Assert.Equal([32, 200], new Sequential(new Embedding(1000, 100), new Lstm(100, 200)).Call(ids).ShapeArray());
        Assert.Equal([32, 200], new Sequential(new Embedding(1000, 100), new Bidirectional(new Lstm(100, 200), MergeMode.Sum)).Call(ids).ShapeArray());
        Assert.Equal([32, 20, 400], new Sequential(new Embedding(1000, 100),
            new Bidirectional(new Lstm(100, 200, returnSequences: true), MergeMode.Concat)).Call(ids).ShapeArray());
    }

    // ---- states ----

    [Fact]
    public void LstmReturnsItsStatesAndStartsFromGivenOnes()
    {
        var g = new Generator(3);
        var layer = OpRegistry.Randomised(new Lstm(3, 4, returnSequences: true, returnState: true), 5);
        var x = Tensor.RandN(g, [2, 5, 3]);
        var h0 = Tensor.RandN(g, [2, 4]);
        var c0 = Tensor.RandN(g, [2, 4]);
        var result = layer.CallWithStates(x, null, [h0, c0]);
        Assert.Equal(3, result.Length);
        var (k, u, b) = OpRegistry.Weights(layer);
        var (output, h, c) = RecurrentReference.Run(Cell.Lstm, R.Of(x), k, u, b, 4,
            new RunOptions(ReturnSequences: true, H0: R.Of(h0).Data, C0: R.Of(c0).Data));
        Numeric.AssertClose(output.Data, result[0].ToArray(), 1e-5, "sequence");
        Numeric.AssertClose(h.Data, result[1].ToArray(), 1e-5, "h");
        Numeric.AssertClose(c!.Data, result[2].ToArray(), 1e-5, "c");
        // The last output is the final h.
        Assert.Equal(result[1].ToArray(), result[0].Narrow(1, 4, 1).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GruStartsFromAGivenStateAndReturnsIt(bool resetAfter)
    {
        var g = new Generator(4);
        var layer = OpRegistry.Randomised(new Gru(2, 3, returnState: true, goBackwards: true, resetAfter: resetAfter), 6);
        var x = Tensor.RandN(g, [3, 4, 2]);
        var h0 = Tensor.RandN(g, [3, 3]);
        var result = layer.CallWithStates(x, null, [h0]);
        Assert.Equal(2, result.Length);
        var (k, u, b) = OpRegistry.Weights(layer);
        var (output, h, _) = RecurrentReference.Run(resetAfter ? Cell.Gru : Cell.GruResetBefore, R.Of(x), k, u, b, 3,
            new RunOptions(GoBackwards: true, H0: R.Of(h0).Data));
        Numeric.AssertClose(output.Data, result[0].ToArray(), 1e-5, "output");
        Numeric.AssertClose(h.Data, result[1].ToArray(), 1e-5, "h");
    }

    [Fact]
    public void WithoutReturnStateOnlyTheOutputComesBack()
        => Assert.Single(new SimpleRnn(2, 3).CallWithStates(Tensor.Ones(1, 2, 2)));

    // ---- weight gradients ----

    public static TheoryData<string> GradientLayers => new() { "lstm", "gru", "gru-reset-before", "simple-rnn", "lstm-masked-backwards" };

    /// <summary>d sum(output · v) / d weights against central differences of the double-precision equations.</summary>
    [Theory]
    [MemberData(nameof(GradientLayers))]
    public void WeightGradientsMatchFiniteDifferences(string kind)
    {
        var (layer, cell, options) = kind switch
        {
            "lstm" => ((RecurrentLayer)new Lstm(3, 2, returnSequences: true), Cell.Lstm, new RunOptions(ReturnSequences: true)),
            "gru" => (new Gru(3, 2, returnSequences: true), Cell.Gru, new RunOptions(ReturnSequences: true)),
            "gru-reset-before" => (new Gru(3, 2, resetAfter: false), Cell.GruResetBefore, new RunOptions()),
            "simple-rnn" => (new SimpleRnn(3, 2, returnSequences: true), Cell.SimpleRnn, new RunOptions(ReturnSequences: true)),
            _ => (new Lstm(3, 2, goBackwards: true), Cell.Lstm, new RunOptions(GoBackwards: true, Mask: [1, 1, 0, 1, 0, 1, 1, 1])),
        };
        OpRegistry.Randomised(layer, 9);
        var g = new Generator(10);
        var x = Tensor.RandN(g, [2, 4, 3]);
        var mask = options.Mask is null ? null : Tensor.FromArray(Array.ConvertAll(options.Mask, v => (float)v), [2, 4]);
        var y = layer.Forward(x, mask);
        var v = Tensor.RandN(new Generator(11), y.ShapeArray());
        (y * v).Sum().Backward();

        var (k, u, b) = OpRegistry.Weights(layer);
        R[] weights = [k, u, b!];
        double Loss(R[] w) => RecurrentReference.Run(cell, R.Of(x), w[0], w[1], w[2], 2, options).Output.Data.Zip(R.Of(v).Data, (p, q) => p * q).Sum();
        var parameters = layer.Parameters().ToArray();
        Assert.Equal(3, parameters.Length);
        for (int i = 0; i < 3; i++)
            Numeric.AssertClose(Numeric.Gradient(Loss, weights, i, 1e-6), parameters[i].Grad!.ToArray(), 1e-3, $"{kind} d/d{layer.NamedParameters().ElementAt(i).Name}");
    }

    // ---- masks ----

    /// <summary>Right-padded ids with Embedding(maskZero): each sample's result is that of its unpadded sequence.</summary>
    [Fact]
    public void MaskZeroMakesPaddingInvisibleThroughStackedLayers()
    {
        Init.Seed(21);
        var model = new Sequential(new Embedding(10, 4, maskZero: true), new Lstm(4, 3, returnSequences: true), new Gru(3, 2));
        float[][] sentences = [[3, 1, 4, 1, 5], [9, 2, 6], [5, 3]];
        var padded = Tensor.FromArray(sentences.SelectMany(s => s.Concat(new float[5 - s.Length])).ToArray(), [3, 5]);
        var all = model.Call(padded).ToArray();
        for (int i = 0; i < sentences.Length; i++)
        {
            var alone = model.Call(Tensor.FromArray(sentences[i], [1, sentences[i].Length])).ToArray();
            Numeric.AssertClose(alone, all.AsSpan(i * 2, 2).ToArray(), 1e-6, $"sentence {i}");
        }
        // Without the mask the padding changes the result.
        Init.Seed(21);
        var unmasked = new Sequential(new Embedding(10, 4), new Lstm(4, 3, returnSequences: true), new Gru(3, 2));
        var first = unmasked.Call(Tensor.FromArray(sentences[2], [1, 2])).ToArray();
        Assert.NotEqual(first, unmasked.Call(padded).ToArray().AsSpan(4, 2).ToArray());
    }

    [Fact]
    public void MasksFlowAsKerasComputesThem()
    {
        var ids = Tensor.FromArray([1f, 2, 0, 3, 0, 0], [2, 3]);
        var embedding = new Embedding(5, 2, maskZero: true);
        var mask = embedding.ComputeMask(ids, null)!;
        Assert.Equal([1f, 1, 0, 1, 0, 0], mask.ToArray());
        Assert.Null(new Embedding(5, 2).ComputeMask(ids, null));
        var x = embedding.Forward(ids);
        Assert.Same(mask, new Lstm(2, 3, returnSequences: true).ComputeMask(x, mask));
        Assert.Null(new Lstm(2, 3).ComputeMask(x, mask));
        Assert.Same(mask, new Bidirectional(new Gru(2, 3, returnSequences: true)).ComputeMask(x, mask));
        Assert.Null(new Bidirectional(new Gru(2, 3)).ComputeMask(x, mask));
        Assert.Same(mask, new TimeDistributed(new Linear(2, 2)).ComputeMask(x, mask));
        Assert.Null(new GlobalAveragePooling1d().ComputeMask(x, mask));
    }

    [Fact]
    public void MaskAwareAveragePoolingAfterEmbeddingIgnoresPadding()
    {
        var model = new Sequential(new Embedding(6, 3, maskZero: true), new GlobalAveragePooling1d());
        var emb = ((Embedding)model[0]).Embeddings;
        var y = model.Call(Tensor.FromArray([2f, 4, 0, 0], [1, 4])).ToArray();
        var expected = (emb.Narrow(0, 2, 1) + emb.Narrow(0, 4, 1)) / 2f;
        Numeric.AssertClose(expected.ToArray(), y, 1e-6, "masked mean");
    }

    [Fact]
    public void BidirectionalWithoutMergeGivesBothDirections()
    {
        var bi = new Bidirectional(new Lstm(2, 3, returnSequences: true), MergeMode.None);
        var x = Tensor.RandN(new Generator(2), [2, 4, 2]);
        var (f, b) = bi.ForwardBoth(x);
        Assert.Equal([2, 4, 3], f.ShapeArray());
        Assert.Equal([2, 4, 3], b.ShapeArray());
        // The backward half is in input order: its output at step 0 saw the whole sequence, so it is its final state.
        var states = bi.CallWithStates(x);
        Assert.Equal(2, states.Length);
        Assert.Equal(bi.Backwards.Run(x).State.ToArray(), b.Narrow(1, 0, 1).ToArray());
        Assert.Equal(bi.Forwards.Run(x).State.ToArray(), f.Narrow(1, 3, 1).ToArray());
        Assert.Throws<InvalidOperationException>(() => bi.Forward(x));
    }

    [Fact]
    public void BidirectionalReturnStateListsForwardThenBackwardStates()
    {
        var bi = new Bidirectional(new Lstm(2, 3, returnState: true), MergeMode.Concat);
        var x = Tensor.RandN(new Generator(3), [2, 4, 2]);
        var r = bi.CallWithStates(x);
        Assert.Equal(5, r.Length);
        Assert.Equal([2, 6], r[0].ShapeArray());
        Assert.Equal(r[1].ToArray(), r[0].Narrow(1, 0, 3).ToArray());   // forward h is the forward half
        Assert.Equal(r[3].ToArray(), r[0].Narrow(1, 3, 3).ToArray());   // backward h is the backward half
    }

    // ---- initialisers ----

    [Theory]
    [InlineData(8, 32)]
    [InlineData(16, 16)]
    [InlineData(20, 6)]
    public void OrthogonalInitialiserIsOrthonormal(int rows, int cols)
    {
        var w = Init.Orthogonal(new Generator(5), [rows, cols]);
        var gram = rows <= cols ? Tensor.MatMul(w, w, false, true) : Tensor.MatMul(w, w, true, false);
        int n = Math.Min(rows, cols);
        var identity = new float[n * n];
        for (int i = 0; i < n; i++) identity[i * n + i] = 1;
        Numeric.AssertClose(identity, gram.ToArray(), 1e-5, "Gram matrix");
    }

    [Fact]
    public void LstmStartsWithKerasInitialisers()
    {
        var lstm = new Lstm(10, 6, generator: new Generator(8));
        var bias = lstm.Bias!.ToArray();
        Assert.Equal(Enumerable.Repeat(0f, 6).Concat(Enumerable.Repeat(1f, 6)).Concat(Enumerable.Repeat(0f, 12)), bias);
        Assert.All(new Lstm(10, 6, unitForgetBias: false).Bias!.ToArray(), v => Assert.Equal(0f, v));
        float limit = MathF.Sqrt(6f / (10 + 24));
        var kernel = lstm.Kernel.ToArray();
        Assert.All(kernel, v => Assert.InRange(v, -limit, limit));
        Assert.True(kernel.Max() > 0.8f * limit && kernel.Min() < -0.8f * limit, "the kernel should fill its glorot range");
        var gram = Tensor.MatMul(lstm.RecurrentKernel, lstm.RecurrentKernel, false, true).ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(1f, gram[i * 6 + i], 1e-5f);
        Assert.Equal([2, 9], new Gru(4, 3).Bias!.ShapeArray());
        Assert.Equal([9], new Gru(4, 3, resetAfter: false).Bias!.ShapeArray());
        var names = lstm.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(["kernel", "recurrent_kernel", "bias"], names);
    }

    // ---- dropout ----

    /// <summary>With no recurrence and the same input at every step, one dropout mask per sequence gives equal steps.</summary>
    [Fact]
    public void InputDropoutUsesOneMaskPerSequence()
    {
        var rnn = new SimpleRnn(16, 5, returnSequences: true, dropout: 0.5f, generator: new Generator(1));
        rnn.RecurrentKernel.Backend.Fill(rnn.RecurrentKernel, 0f);
        var step = Tensor.RandN(new Generator(2), [3, 1, 16]);
        var x = Tensor.Concat([step, step, step, step], 1);
        var y = rnn.Forward(x);
        for (int t = 1; t < 4; t++) Assert.Equal(y.Narrow(1, 0, 1).ToArray(), y.Narrow(1, t, 1).ToArray());
        rnn.Eval();
        var plain = rnn.Forward(x);
        Assert.NotEqual(plain.ToArray(), y.ToArray());   // training dropped something
        // In evaluation nothing is dropped: the equations without dropout.
        var (k, u, b) = OpRegistry.Weights(rnn);
        Numeric.AssertClose(RecurrentReference.Run(Cell.SimpleRnn, R.Of(x), k, u, b, 5, new RunOptions(ReturnSequences: true)).Output.Data,
            plain.ToArray(), 1e-5, "eval");
    }

    [Fact]
    public void RecurrentDropoutActsOnlyInTraining()
    {
        var lstm = OpRegistry.Randomised(new Lstm(3, 4, recurrentDropout: 0.5f, generator: new Generator(3)), 4);
        var x = Tensor.RandN(new Generator(5), [2, 6, 3]);
        var train = lstm.Forward(x).ToArray();
        lstm.Eval();
        var (k, u, b) = OpRegistry.Weights(lstm);
        var expected = RecurrentReference.Run(Cell.Lstm, R.Of(x), k, u, b, 4, new RunOptions()).Output.Data;
        Numeric.AssertClose(expected, lstm.Forward(x).ToArray(), 1e-5, "eval");
        Assert.True(expected.Zip(train, (e, t) => Math.Abs(e - t)).Max() > 1e-3, "recurrent dropout changed nothing in training");
    }

    // ---- speed and memory ----

    /// <summary>A whole LSTM training step (forward over 12 steps, backward, Adam) inside a recycling scope allocates nothing.</summary>
    [Fact]
    public void LstmTrainingStepInsideATensorScopeAllocatesNothing()
    {
        var embedding = new Embedding(20, 8, maskZero: true, generator: new Generator(1));
        var lstm = new Lstm(8, 16, generator: new Generator(2));
        var head = new Linear(16, 3, generator: new Generator(3));
        var parameters = embedding.Parameters().Concat(lstm.Parameters()).Concat(head.Parameters()).ToArray();
        var opt = new Adam(parameters, 0.01f);
        var ids = Tensor.FromArray(Enumerable.Range(0, 4 * 12).Select(i => (float)(i % 7 == 3 ? 0 : i % 19 + 1)).ToArray(), [4, 12]);
        var labels = Tensor.FromArray([0f, 2, 1, 1], [4]);
        bool previous = TensorScope.RecycleObjects;
        TensorScope.RecycleObjects = true;
        try
        {
            void Step()
            {
                using var _ = TensorScope.Begin();
                opt.ZeroGrad();
                var x = embedding.Forward(ids);
                var y = head.Forward(lstm.Forward(x, embedding.ComputeMask(ids, null)));
                Losses.CrossEntropy(y, labels).Backward();
                opt.Step();
            }
            for (int i = 0; i < 5; i++) Step();
            long bytes = -1;
            for (int round = 0; round < 4 && bytes != 0; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 5; i++) Step();
                bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.Equal(0, bytes);
        }
        finally { TensorScope.RecycleObjects = previous; }
    }

    // ---- errors ----

    [Fact]
    public void BadInputsAreClearErrors()
    {
        var lstm = new Lstm(3, 2);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Ones(2, 4, 5)));
        Assert.Contains("expected input [batch, steps, 3]", e.Message);
        Assert.Contains("[2, 4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Ones(2, 4, 3), Tensor.Ones(2, 5)));
        Assert.Contains("mask", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Run(Tensor.Ones(2, 4, 3), null, [Tensor.Ones(2, 2)]));
        Assert.Contains("expected 2 initial state", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Run(Tensor.Ones(2, 4, 3), null, [Tensor.Ones(2, 2), Tensor.Ones(3, 2)]));
        Assert.Contains("initial state 1 must be [2, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Embedding(10, 3).Forward(Tensor.FromArray([1f, 10], [1, 2])));
        Assert.Contains("ids must be integers in [0, 10)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.LstmCell(Tensor.Ones(2, 8), Tensor.Ones(2, 6), Tensor.Ones(2, 2)));
        Assert.Contains("recurrent projection [2, 8]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new Lstm(3, 2), MergeMode.Sum, new Lstm(3, 4, goBackwards: true)));
        Assert.Contains("one width", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv1d(3, 2, 5).Forward(Tensor.Ones(1, 4, 3)));
        Assert.Contains("fewer than the kernel's extent 5", e.Message);
        Assert.Throws<ArgumentException>(() => new Gru(3, 2, dropout: 1f));
        Assert.Throws<ArgumentException>(() => Tensor.Ones(3, 2).Select(3));
    }

    [Fact]
    public void Conv1dGivesKerasOutputLengths()
    {
        var x = Tensor.Ones(2, 7, 3);
        Assert.Equal([2, 5, 4], new Conv1d(3, 4, 3).Forward(x).ShapeArray());
        Assert.Equal([2, 7, 4], new Conv1d(3, 4, 3, padding: Padding1d.Same).Forward(x).ShapeArray());
        Assert.Equal([2, 4, 4], new Conv1d(3, 4, 3, strides: 2, padding: Padding1d.Same).Forward(x).ShapeArray());
        Assert.Equal([2, 3, 4], new Conv1d(3, 4, 3, strides: 2).Forward(x).ShapeArray());
        Assert.Equal([2, 7, 4], new Conv1d(3, 4, 3, padding: Padding1d.Causal, dilation: 3).Forward(x).ShapeArray());
        // Causal: step t sees no later step.
        var conv = new Conv1d(1, 1, 3, padding: Padding1d.Causal, generator: new Generator(3));
        var a = conv.Forward(Tensor.FromArray([1f, 2, 3, 4, 5], [1, 5, 1])).ToArray();
        var b = conv.Forward(Tensor.FromArray([1f, 2, 3, 40, 50], [1, 5, 1])).ToArray();
        Assert.Equal(a[..3], b[..3]);
        Assert.NotEqual(a[3], b[3]);
    }

    [Fact]
    public void TimeDistributedAppliesTheLayerToEveryStep()
    {
        var dense = new Linear(3, 2, generator: new Generator(4));
        var x = Tensor.RandN(new Generator(5), [2, 4, 3]);
        var y = new TimeDistributed(dense).Forward(x);
        Assert.Equal([2, 4, 2], y.ShapeArray());
        for (int t = 0; t < 4; t++)
            Numeric.AssertClose(dense.Forward(x.Narrow(1, t, 1).Reshape(2, 3)).ToArray(), y.Narrow(1, t, 1).ToArray(), 1e-6, $"step {t}");
    }
}
