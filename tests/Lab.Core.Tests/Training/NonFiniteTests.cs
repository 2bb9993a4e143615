using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Xunit;

namespace Lab.Core.Tests.Training;

/// <summary>Training stops at the first NaN or infinity, naming the quantity, the epoch and step, and the hint.</summary>
public class NonFiniteTests
{
    /// <summary>Records a loss per step: finite except at one step (1-based over the whole run).</summary>
    private sealed class ScriptedTrainer(Module model, int badStep, float badValue) : Trainer(model)
    {
        public int Steps { get; private set; }

        protected override void TrainStep(Batch batch)
        {
            Steps++;
            LossTracker.Update(Tensor.FromArray([Steps == badStep ? badValue : 0.5f], [1]), batch.Size);
        }
    }

    private static Dataset Data => new Blobs(3).Sample(60);   // 5 steps of 12 per epoch

    [Theory]
    [InlineData(float.NaN, "loss became NaN at epoch 2, step 3 of a test run: the learning rate is too high")]
    [InlineData(float.PositiveInfinity, "loss became infinite at epoch 2, step 3 of a test run: the learning rate is too high")]
    public void FitStopsAtTheFirstNonFiniteLoss(float bad, string message)
    {
        var trainer = new ScriptedTrainer(new Linear(2, 5), badStep: 8, bad)
        {
            Output = TextWriter.Null,
            NonFiniteHint = "of a test run: the learning rate is too high",
        };
        var e = Assert.Throws<NonFiniteException>(() => trainer.Fit(Data, 4, 12, generator: new Generator(1)));
        Assert.Equal(message, e.Message);
        Assert.Equal(8, trainer.Steps);   // nothing ran after the bad step
    }

    [Fact]
    public void AHugeLearningRateStopsARealModel()
    {
        var model = new Sequential(new Linear(2, 10, Activation.Relu), new Linear(10, 5, Activation.Softmax));
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Sgd(model.Parameters(), 1e30f), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new SparseCategoricalAccuracy());
        var e = Assert.Throws<NonFiniteException>(() => trainer.Fit(Data, 3, 12, generator: new Generator(1)));
        Assert.Matches(@"^loss became (NaN|infinite) at epoch 1, step \d\.$", e.Message);
    }

    /// <summary>A ratio a user defines, NaN when nothing was counted (0/0).</summary>
    private sealed class Precision() : Metric("precision")
    {
        public override void Update(Tensor yTrue, Tensor yPred) { }
        public override double Result() => 0.0 / 0.0;
        public override void Reset() { }
    }

    [Fact]
    public void AUserMetricMayBeNaN()
    {
        var model = new Linear(2, 5, Activation.Softmax);
        var trainer = new Trainer(model) { Output = TextWriter.Null };
        trainer.Compile(new Adam(model.Parameters()), (p, y) => Losses.SparseCategoricalCrossEntropy(p, y), new Precision());
        var history = trainer.Fit(Data, 2, 12, generator: new Generator(1));
        Assert.True(double.IsNaN(history["precision"][^1]));
        Assert.True(double.IsFinite(history["loss"][^1]));
    }

    [Fact]
    public void InAnomalyModeTheMessageNamesTheOpAndTheStep()
    {
        var trainer = new LogTrainer(new Linear(2, 5), badStep: 4) { Output = TextWriter.Null, NonFiniteHint = "of a test run." };
        using (Anomaly.Detect())
        {
            var e = Assert.Throws<NonFiniteException>(() => trainer.Fit(Data, 2, 12, generator: new Generator(1)));
            Assert.StartsWith("Anomaly: Log produced NaN", e.Message);
            Assert.EndsWith(", at epoch 1, step 4 of a test run.", e.Message);
            Assert.IsType<AnomalyException>(e.InnerException);
        }
    }

    private sealed class LogTrainer(Module model, int badStep) : Trainer(model)
    {
        private int _steps;

        protected override void TrainStep(Batch batch)
        {
            var x = Tensor.FromArray([++_steps == badStep ? -1f : 2f], [1]);
            LossTracker.Update(x.Log(), batch.Size);
        }
    }

    [Fact]
    public void TheCheckOfAStepAllocatesNothing()
    {
        var loss = new Mean("loss");
        var value = Tensor.FromArray([0.25f], [1]);
        void Step()
        {
            loss.Update(value, 10);
            NonFinite.Check(loss.Peek(), loss.Name, 1, 1, "hint");
        }
        for (int i = 0; i < 5; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0.25, loss.Result(), 6);   // peeking left the running sum intact
    }

    [Fact]
    public void ValuesNameTheFirstBadOneAndWhere()
    {
        NonFinite.Check([1f, 2f], "samples", "after step 1");
        var e = Assert.Throws<NonFiniteException>(() => NonFinite.Check([1f, float.NegativeInfinity, float.NaN], "samples", "after Langevin step 7", "of score."));
        Assert.Equal("samples became infinite after Langevin step 7 (value 1 of 3) of score.", e.Message);
    }

    [Fact]
    public async Task AnomalyModeStaysInTheFlowThatTurnedItOn()
    {
        Assert.False(Anomaly.Enabled);
        bool inOtherFlow = true;
        var other = new Thread(() => inOtherFlow = Anomaly.Enabled);   // a thread started before: not part of this flow
        await Task.Run(() =>
        {
            Anomaly.Enabled = true;
            other.UnsafeStart();
            other.Join();
            Assert.True(Anomaly.Enabled);
        });
        Assert.False(inOtherFlow);
        Assert.False(Anomaly.Enabled);   // the task's setting did not leak back
    }
}
