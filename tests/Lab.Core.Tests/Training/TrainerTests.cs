using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Core.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void Fit_allocates_per_epoch_not_per_step()
    {
        // The zero-allocation mode (tensor objects reused too), switched on for this thread only.
        bool recycled = TensorScope.RecycleObjects;
        TensorScope.RecycleObjects = true;
        try { FitAllocatesPerEpochNotPerStep(); }
        finally { TensorScope.RecycleObjects = recycled; }
    }

    private static void FitAllocatesPerEpochNotPerStep()
    {
        var model = new Sequential(
            new Linear(2, 16, Activation.Relu, generator: new Generator(1)),
            new Dropout(0.1f, new Generator(5)),
            new Linear(16, 3, Activation.Softmax, generator: new Generator(2)));
        var trainer = new Trainer(model) { LiveProgress = false };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        var data = new Blobs(3).Sample(1500);   // 150 steps of 10 per epoch
        long Bytes(int epochs)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Fit(data, epochs, batchSize: 10, verbose: 0, generator: new Generator(1));
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Bytes(2);
        // An epoch's own bookkeeping (metrics, logs, history) is a few hundred bytes; one 24-byte object per
        // step would already add 3,600. Up to three rounds: a kernel's scratch buffer may still grow once when
        // other tests change the thread settings meanwhile, an allocation per step shows in every round.
        var perEpoch = new List<long>();
        for (int round = 0; round < 3 && (perEpoch.Count == 0 || perEpoch[^1] >= 2000); round++)
            perEpoch.Add((Bytes(3) - Bytes(1)) / 2);
        Assert.True(perEpoch[^1] < 2000, $"bytes per epoch of 150 steps, by round: {string.Join(", ", perEpoch)}");
    }

    private static (Sequential Model, Trainer Trainer) Toy(ulong seed = 1)
    {
        var g = new Generator(seed);
        var model = new Sequential(
            new Linear(2, 10, Activation.Relu, generator: g),
            new Linear(10, 8, Activation.Relu, generator: g),
            new Linear(8, 5, Activation.Softmax, generator: g));
        var trainer = new Trainer(model) { Output = new StringWriter(), LiveProgress = false };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        return (model, trainer);
    }

    [Fact]
    public void FitOnTheToyMixtureReachesHighAccuracy()
    {
        var data = new Blobs();
        var train = data.Sample(3000);
        var test = data.Sample(300);
        var (_, trainer) = Toy();
        var history = trainer.Fit(train, epochs: 3, batchSize: 10, generator: new Generator(1));
        Assert.Equal(3, history["loss"].Count);
        Assert.True(history["loss"][2] < history["loss"][0]);
        var result = trainer.Evaluate(test, verbose: 0);
        Assert.True(result["accuracy"] > 0.95, $"accuracy {result["accuracy"]}");
        Assert.True(result["loss"] < 0.3, $"loss {result["loss"]}");
        var output = trainer.Output.ToString()!;
        Assert.Contains("Epoch 3/3", output);
        Assert.Matches(@"300/300 ━{20} \d+s \d+(ms|us)/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}", output);
    }

    [Fact]
    public void ProgressLineFormatsLikeKeras()
    {
        var line = ProgressLine.Format(150, 300, TimeSpan.FromSeconds(2.2), new Dictionary<string, double> { ["loss"] = 0.0422, ["accuracy"] = 0.99421 });
        Assert.Equal("150/300 ━━━━━━━━━━────────── 2s 15ms/step - accuracy: 0.9942 - loss: 0.0422", line);
        Assert.Contains("us/step", ProgressLine.Format(300, 300, TimeSpan.FromMilliseconds(60), []));
    }

    [Fact]
    public void RedirectedOutputGetsOnePlainLinePerEpoch()
    {
        var (_, trainer) = Toy();
        trainer.Fit(new Blobs().Sample(100), epochs: 2, batchSize: 10, generator: new Generator(1));
        var lines = trainer.Output.ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length); // "Epoch k/2" and one progress line each
        Assert.DoesNotContain('\r', trainer.Output.ToString()!);

        var live = new StringWriter();
        var (_, t2) = Toy();
        t2.Output = live; t2.LiveProgress = true;
        t2.Fit(new Blobs().Sample(100), epochs: 1, batchSize: 10, generator: new Generator(1));
        Assert.Contains('\r', live.ToString());
    }

    [Fact]
    public void ValidationSplitAddsValKeys()
    {
        var (_, trainer) = Toy();
        var h = trainer.Fit(new Blobs().Sample(200), epochs: 1, batchSize: 10, validationSplit: 0.2, generator: new Generator(1));
        Assert.Contains("val_loss", h.Values.Keys);
        Assert.Contains("val_accuracy", h.Values.Keys);
    }

    [Fact]
    public void PredictBatchesAndMatchesOneCall()
    {
        var (model, trainer) = Toy();
        var x = Tensor.RandN(new Generator(2), [70, 2]);
        var all = trainer.Predict(x, batchSize: 32);
        model.Eval();
        Assert.Equal(model.Call(x).ToArray(), all.ToArray());
    }

    private sealed class CustomTrainer(Module model) : Trainer(model)
    {
        public Mean MyLoss { get; } = new("My_loss");
        public Mean MyAccuracy { get; } = new("My_accuracy");
        public override IReadOnlyList<Metric> Metrics => [MyLoss, MyAccuracy];
        public Adam Adam { get; } = new(model.Parameters());

        protected override void TrainStep(Batch batch)
        {
            Adam.ZeroGrad();
            var p = Model.Call(batch.X);
            var loss = Losses.SparseCategoricalCrossEntropy(p, batch.Y);
            loss.Backward();
            Adam.Step();
            MyLoss.Update(loss, batch.Size);
            MyAccuracy.Update(p.ArgMax(1).Eq(batch.Y).Mean(), batch.Size);
        }

        protected override void TestStep(Batch batch)
        {
            var p = Model.Call(batch.X);
            MyLoss.Update(Losses.SparseCategoricalCrossEntropy(p, batch.Y), batch.Size);
            MyAccuracy.Update(p.ArgMax(1).Eq(batch.Y).Mean(), batch.Size);
        }
    }

    [Fact]
    public void CustomTrainAndTestStepsDriveFitAndEvaluate()
    {
        var (model, _) = Toy();
        var trainer = new CustomTrainer(model) { Output = new StringWriter(), LiveProgress = false };
        var data = new Blobs().Sample(500);
        var h = trainer.Fit(data, epochs: 2, batchSize: 10, generator: new Generator(1));
        Assert.Equal(["My_accuracy", "My_loss"], h.Values.Keys.Order());
        var result = trainer.Evaluate(data, verbose: 0);
        Assert.Equal(["My_accuracy", "My_loss"], result.Keys.Order());
        Assert.True(result["My_accuracy"] > 0.5);
    }
}
