using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.IO;
using Lab.Core.Training;
using static Lab.Core.Nn.Functional;

namespace Lab.Core.Tests.FunctionalModels;

/// <summary>Functional models in the trainer: a loss, weight and metrics per output; several inputs; checkpoints.</summary>
public class FunctionalTrainingTests
{
    /// <summary>
    /// A learnable task for two inputs and two outputs: "diff" regresses mean(a) - mean(b), "sign" classifies whether
    /// mean(a) + mean(b) is positive. One encoder is shared by both inputs.
    /// </summary>
    private static (Model Model, Linear Shared) TwinModel(ulong seed = 1)
    {
        var (a, b) = (Input([4], name: "a"), Input([4], name: "b"));
        var shared = new Linear(4, 16, Activation.Tanh, generator: new Generator(seed)) { Name = "shared" };
        var joined = new Concatenate { Name = "joined" }.Call(shared.Call(a), shared.Call(b));
        var diff = new Linear(32, 1, generator: new Generator(seed + 1)) { Name = "diff" }.Call(joined);
        var sign = new Linear(32, 2, Activation.Softmax, generator: new Generator(seed + 2)) { Name = "sign" }.Call(joined);
        return (new Model([a, b], [diff, sign], name: "twin"), shared);
    }

    private static MultiDataset TwinData(int n, ulong seed)
    {
        var g = new Generator(seed);
        var (a, b) = (Tensor.RandN(g, [n, 4]), Tensor.RandN(g, [n, 4]));
        var (ma, mb) = (a.Mean(1), b.Mean(1));
        var diff = (ma - mb).Reshape(n, 1);
        var sign = (ma + mb).Gt(0f);
        return MultiDataset.FromTensors([a, b], [diff, sign]);
    }

    private static Trainer Compiled(Model model, float diffWeight = 0.5f)
    {
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Adam(model.Parameters(), lr: 0.01f),
            new Dictionary<string, Func<Tensor, Tensor, Tensor>>
            {
                ["diff"] = (p, y) => Losses.Mse(p, y),
                ["sign"] = (p, y) => Losses.SparseCategoricalCrossEntropy(p, y),
            },
            lossWeights: new Dictionary<string, float> { ["diff"] = diffWeight },
            metrics: new Dictionary<string, Metric[]> { ["sign"] = [new SparseCategoricalAccuracy()], ["diff"] = [new MeanSquaredError()] });
        return trainer;
    }

    [Fact]
    public void TwoInputsTwoOutputsAndASharedLayerTrainWithFit()
    {
        var (model, shared) = TwinModel();
        var trainer = Compiled(model);
        var before = shared.Weight.ToArray();
        var history = trainer.Fit(TwinData(512, 3), epochs: 25, batchSize: 32, validationData: TwinData(256, 4), generator: new Generator(5));

        Assert.Equal(["loss", "diff_loss", "sign_loss", "diff_mse", "sign_accuracy",
                      "val_loss", "val_diff_loss", "val_sign_loss", "val_diff_mse", "val_sign_accuracy"], history.Values.Keys);
        Assert.True(history["loss"][^1] < 0.25 * history["loss"][0], $"loss {history["loss"][0]} -> {history["loss"][^1]}");
        Assert.True(history["val_diff_loss"][^1] < 0.01, $"val diff mse {history["val_diff_loss"][^1]}");
        Assert.True(history["val_sign_accuracy"][^1] > 0.93, $"val sign accuracy {history["val_sign_accuracy"][^1]}");
        // The total is the weighted sum of the outputs' losses (each a running mean over the same batches).
        for (int e = 0; e < history["loss"].Count; e++)
            Assert.Equal(0.5 * history["diff_loss"][e] + history["sign_loss"][e], history["loss"][e], 4);
        Assert.Equal(history["diff_loss"][^1], history["diff_mse"][^1], 4);
        Assert.NotEqual(before, shared.Weight.ToArray());
    }

    [Fact]
    public void EvaluateAndPredictTakeSeveralInputs()
    {
        var (model, _) = TwinModel(seed: 7);
        var trainer = Compiled(model, diffWeight: 2f);
        var data = TwinData(70, 9);
        var logs = trainer.Evaluate(data, batchSize: 16, verbose: 0);

        var (a, b) = (Tensor.FromArray(data.Inputs[0].Values, [70, 4]), Tensor.FromArray(data.Inputs[1].Values, [70, 4]));
        var (diff, sign) = (Tensor.FromArray(data.Targets[0].Values, [70, 1]), Tensor.FromArray(data.Targets[1].Values, [70]));
        var outs = model.Predict(a, b);
        double diffLoss = Losses.Mse(outs[0], diff).Item(), signLoss = Losses.SparseCategoricalCrossEntropy(outs[1], sign).Item();
        // Batches of 16, 16, 16, 16, 6: a mean of batch means weighted by their sizes is the mean over all 70.
        Assert.Equal(diffLoss, logs["diff_loss"], 5);
        Assert.Equal(signLoss, logs["sign_loss"], 5);
        Assert.Equal(2 * diffLoss + signLoss, logs["loss"], 5);

        var predicted = trainer.Predict([a, b], batchSize: 16);
        Assert.Equal(2, predicted.Length);
        Assert.Equal([70, 1], predicted[0].ShapeArray());
        Assert.Equal(outs[0].ToArray(), predicted[0].ToArray());
        Assert.Equal(outs[1].ToArray(), predicted[1].ToArray());
    }

    [Fact]
    public void DataMatchesInputsAndOutputsByName()
    {
        var (model, _) = TwinModel(seed: 11);
        var trainer = Compiled(model);
        var data = TwinData(40, 12);
        Tensor T(DataPart p) => Tensor.FromArray(p.Values, [40, .. p.SampleShape]);
        var named = MultiDataset.FromTensors(
            new Dictionary<string, Tensor> { ["b"] = T(data.Inputs[1]), ["a"] = T(data.Inputs[0]) },
            new Dictionary<string, Tensor> { ["sign"] = T(data.Targets[1]), ["diff"] = T(data.Targets[0]) });
        Assert.Equal(trainer.Evaluate(data, verbose: 0), trainer.Evaluate(named, verbose: 0));

        var wrong = MultiDataset.FromTensors(new Dictionary<string, Tensor> { ["a"] = T(data.Inputs[0]), ["c"] = T(data.Inputs[1]) },
            new Dictionary<string, Tensor> { ["sign"] = T(data.Targets[1]), ["diff"] = T(data.Targets[0]) });
        Assert.Contains("input 'c' is not one of the model's inputs (a, b)", Assert.Throws<ArgumentException>(() => trainer.Evaluate(wrong, verbose: 0)).Message);
        var short1 = MultiDataset.FromTensors([T(data.Inputs[0])], [T(data.Targets[0]), T(data.Targets[1])]);
        Assert.Contains("the model has 2 inputs (a, b), the data 1", Assert.Throws<ArgumentException>(() => trainer.Fit(short1, 1, verbose: 0)).Message);
        Assert.Contains("holds 80 values, but 40 samples of shape [4] need 160", Assert.Throws<ArgumentException>(() => new MultiDataset(
            [new DataPart("a", new float[160], [4]), new DataPart("b", new float[80], [4])], [])).Message);
    }

    private static Tensor Mse(Tensor p, Tensor y) => Losses.Mse(p, y);

    /// <summary>validationSplit takes the last samples before shuffling, as Keras, and validates on them each epoch.</summary>
    [Fact]
    public void AValidationSplitHoldsOutTheLastSamples()
    {
        var (model, _) = TwinModel(seed: 51);
        var trainer = Compiled(model);
        var data = TwinData(80, 52);
        var history = trainer.Fit(data, epochs: 1, batchSize: 16, validationSplit: 0.25, generator: new Generator(1), verbose: 0);
        var last = data.Subset(Enumerable.Range(60, 20).ToArray());
        Assert.Equal(trainer.Evaluate(last, verbose: 0)["loss"], history["val_loss"][0], 6);
        Assert.Contains("not both", Assert.Throws<ArgumentException>(() => trainer.Fit(data, 1, validationData: last, validationSplit: 0.1)).Message);
    }

    [Fact]
    public void CompileChecksOutputNamesAndCounts()
    {
        var (model, _) = TwinModel(seed: 13);
        var trainer = new Trainer(model);
        var opt = new Sgd(model.Parameters(), 0.1f);
        var e = Assert.Throws<ArgumentException>(() => trainer.Compile(opt, new Dictionary<string, Func<Tensor, Tensor, Tensor>> { ["age"] = Mse }));
        Assert.Equal("Compile: a loss for 'age', which is not an output of model 'twin' (outputs: diff, sign).", e.Message);
        Assert.Contains("1 losses for 2 outputs (diff, sign)", Assert.Throws<ArgumentException>(() => trainer.Compile(opt, [Mse])).Message);
        var seq = new Trainer(new Sequential(new Linear(2, 1)));
        Assert.Contains("needs a functional Model", Assert.Throws<InvalidOperationException>(() => seq.Compile(opt, [Mse])).Message);
        // Compiled per output, a plain Dataset cannot feed two inputs.
        trainer.Compile(opt, [Mse, null]);
        var plain = Dataset.FromTensors(Tensor.Zeros(4, 4), Tensor.Zeros(4, 1));
        Assert.Contains("fit a MultiDataset", Assert.Throws<InvalidOperationException>(() => trainer.Fit(plain, 1, verbose: 0)).Message);
    }

    /// <summary>A one-input, one-output functional model trains from a plain Dataset with the ordinary Compile.</summary>
    [Fact]
    public void ASingleInputFunctionalModelFitsAPlainDataset()
    {
        var x = Input([2], name: "x");
        var h = new Linear(2, 16, Activation.Relu, generator: new Generator(1)).Call(x);
        var model = new Model(x, new Linear(16, 2, Activation.Softmax, generator: new Generator(2)).Call(new Add().Call(h, new Linear(16, 16, generator: new Generator(3)).Call(h))));
        var g = new Generator(4);
        var xs = Tensor.RandN(g, [256, 2]);
        var ys = (xs.Narrow(1, 0, 1) * xs.Narrow(1, 1, 1)).Gt(0f).Reshape(256);
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Adam(model.Parameters(), lr: 0.02f), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        var history = trainer.Fit(Dataset.FromTensors(xs, ys), epochs: 40, batchSize: 32, generator: new Generator(5));
        Assert.True(history["accuracy"][^1] > 0.9, $"accuracy {history["accuracy"][^1]}");
        Assert.True(history["loss"][^1] < 0.5 * history["loss"][0]);
    }

    [Fact]
    public void ACheckpointRoundTripsAFunctionalModelWithTheSharedLayerOnce()
    {
        var (model, _) = TwinModel(seed: 21);
        Assert.Equal(["shared.weight", "shared.bias", "diff.weight", "diff.bias", "sign.weight", "sign.bias"], model.StateDict().Select(p => p.Name));
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "twin.ckpt");
        Checkpoint.Save(path, model);
        var (fresh, _) = TwinModel(seed: 99);
        var (a, b) = (Tensor.RandN(new Generator(1), [3, 4]), Tensor.RandN(new Generator(2), [3, 4]));
        Assert.NotEqual(model.Predict(a, b)[0].ToArray(), fresh.Predict(a, b)[0].ToArray());
        Checkpoint.Load(path, fresh);
        Assert.Equal(model.Predict(a, b)[0].ToArray(), fresh.Predict(a, b)[0].ToArray());
        Assert.Equal(model.Predict(a, b)[1].ToArray(), fresh.Predict(a, b)[1].ToArray());
    }

    [Fact]
    public void TensorBoardLogsEveryOutputsLoss()
    {
        var (model, _) = TwinModel(seed: 31);
        var trainer = Compiled(model);
        using var dir = new TempDirectory();
        trainer.Fit(TwinData(64, 32), epochs: 2, callbacks: [new TensorBoardCallback(dir.Path)], verbose: 0, generator: new Generator(1));
        var file = Directory.GetFiles(dir.Path, "events.out.tfevents.*", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(file);
        foreach (var tag in new[] { "diff_loss", "sign_loss", "sign_accuracy" })
            Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(tag)) >= 0, $"no '{tag}' in the event file");
    }

    /// <summary>A functional model's training step in a recycling scope allocates nothing once warm (the core's standard).</summary>
    [Fact]
    public void AFunctionalTrainingStepAllocatesNothing()
    {
        var (model, _) = TwinModel(seed: 41);
        var opt = new Adam(model.Parameters(), lr: 0.01f);
        var g = new Generator(3);
        Tensor[] inputs = [Tensor.RandN(g, [8, 4]), Tensor.RandN(g, [8, 4])];
        var target = Tensor.RandN(g, [8, 1]);
        var labels = Tensor.FromArray([0f, 1, 1, 0, 1, 0, 0, 1], [8]);
        var outs = new Tensor[2];
        void Step()
        {
            using var scope = TensorScope.BeginRecycling();   // the zero-allocation step reuses tensor objects too
            opt.ZeroGrad();
            model.Run(inputs, outs);
            (Losses.Mse(outs[0], target) + Losses.SparseCategoricalCrossEntropy(outs[1], labels)).Backward();
            opt.Step();
        }
        for (int i = 0; i < 5; i++) Step();
        long bytes = -1;
        for (int round = 0; round < 4 && bytes != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Step();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, bytes);
    }

    /// <summary>README's "Using the core" functional example, as written there (between the marked lines).</summary>
    [Fact]
    public void TheReadmeExampleRunsAsWritten()
    {
        var g = new Generator(17);
        var (xa, xb) = (Tensor.RandN(g, [128, 4]), Tensor.RandN(g, [128, 4]));
        var (yDiff, ySign) = ((xa.Mean(1) - xb.Mean(1)).Reshape(128, 1), (xa.Mean(1) + xb.Mean(1)).Gt(0f));
        var console = Console.Out;
        Console.SetOut(TextWriter.Null);
        try
        {
            // ---- README begins
            var a = Input([4], name: "a");
            var b = Input([4], name: "b");
            var shared = new Linear(4, 16, Activation.Tanh) { Name = "shared" };   // one layer, called on both inputs
            var joined = new Concatenate().Call(shared.Call(a), shared.Call(b));
            var diff = new Linear(32, 1) { Name = "diff" }.Call(joined);
            var sign = new Linear(32, 2, Activation.Softmax) { Name = "sign" }.Call(joined);
            var twin = new Model(inputs: [a, b], outputs: [diff, sign]);
            Console.WriteLine(twin.Summary());                                      // with Keras's "Connected to" column

            var twinTrainer = new Trainer(twin);
            twinTrainer.Compile(new Adam(twin.Parameters()),
                new Dictionary<string, Func<Tensor, Tensor, Tensor>>
                {
                    ["diff"] = (p, y) => Losses.Mse(p, y),
                    ["sign"] = (p, y) => Losses.SparseCategoricalCrossEntropy(p, y),
                },
                lossWeights: new Dictionary<string, float> { ["diff"] = 0.5f },
                metrics: new Dictionary<string, Metric[]> { ["sign"] = [new SparseCategoricalAccuracy()] });
            var twinHistory = twinTrainer.Fit(MultiDataset.FromTensors([xa, xb], [yDiff, ySign]), epochs: 10);  // loss, diff_loss, sign_loss, sign_accuracy
            Tensor[] predicted = twin.Predict(xa, xb);                              // one tensor per output
            string dot = twin.Graph().ToDot();                                      // plot_model's graph, for Graphviz
            // ---- README ends
            Assert.Equal(["loss", "diff_loss", "sign_loss", "sign_accuracy"], twinHistory.Values.Keys);
            Assert.True(twinHistory["loss"][^1] < twinHistory["loss"][0]);
            Assert.Equal([128, 2], predicted[1].ShapeArray());
            Assert.Contains("shared: Linear", dot);
        }
        finally { Console.SetOut(console); }
    }

    /// <summary>The README's block and this test's stay the same code.</summary>
    [Fact]
    public void TheReadmeShowsTheTestedExample() => ReadmeExample.AssertSameAsTest("var a = Input([4]", "FunctionalModels", "FunctionalTrainingTests.cs");
}
