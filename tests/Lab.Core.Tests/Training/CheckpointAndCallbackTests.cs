using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;

namespace Lab.Core.Tests.Training;

public sealed class CheckpointAndCallbackTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "genlab-ckpt-" + Guid.NewGuid().ToString("N")[..8]);

    public CheckpointAndCallbackTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Sequential Net(ulong seed) => new(
        new Linear(2, 6, Activation.Relu, generator: new Generator(seed)),
        new BatchNorm1d(6),
        new Linear(6, 3, generator: new Generator(seed + 1)));

    private static Trainer Compiled(Module m)
    {
        var t = new Trainer(m) { Output = new StringWriter(), LiveProgress = false };
        t.Compile(new Adam(m.Parameters(), 0.01f), (p, y) => Losses.CrossEntropy(p, y), new SparseCategoricalAccuracy());
        return t;
    }

    [Fact]
    public void RoundTripRestoresParametersBuffersAndOptimizerState()
    {
        var a = Net(1);
        var ta = Compiled(a);
        ta.Fit(new Blobs(3).Sample(60), 2, 10, generator: new Generator(2));
        var path = Path.Combine(_dir, "a.ckpt");
        Checkpoint.Save(path, a, ta.Optimizer, new CheckpointInfo { Epoch = 2 });

        var b = Net(99);
        var tb = Compiled(b);
        var info = Checkpoint.Load(path, b, tb.Optimizer);
        Assert.Equal(2, info.Epoch);
        Assert.Equal(ta.Optimizer!.Steps, tb.Optimizer!.Steps);
        foreach (var ((n1, t1), (_, t2)) in a.StateDict().Zip(b.StateDict())) Assert.Equal(t1.ToArray(), t2.ToArray());
        foreach (var ((_, s1), (_, s2)) in ta.Optimizer.State().Zip(tb.Optimizer.State())) Assert.Equal(s1.ToArray(), s2.ToArray());
    }

    [Fact]
    public void TruncatedCorruptedAndMismatchedFilesFailClearlyAndChangeNothing()
    {
        var m = Net(1);
        var path = Path.Combine(_dir, "m.ckpt");
        Checkpoint.Save(path, m);
        var bytes = File.ReadAllBytes(path);

        var target = Net(5);
        var before = target.StateDict().Select(p => p.Tensor.ToArray()).ToList();
        void Expect(byte[] content, string fragment, Module? model = null)
        {
            var p = Path.Combine(_dir, "bad.ckpt");
            File.WriteAllBytes(p, content);
            var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(p, model ?? target));
            Assert.Contains(p, ex.Message);
            Assert.Contains(fragment, ex.Message);
        }
        Expect(bytes[..(bytes.Length / 2)], "truncated");
        var flipped = (byte[])bytes.Clone(); flipped[bytes.Length / 2] ^= 0x40;
        Expect(flipped, "corrupted");
        var magic = (byte[])bytes.Clone(); magic[0] = (byte)'X';
        Expect(magic, "magic");
        Expect(bytes, "shape", new Sequential(new Linear(2, 7), new BatchNorm1d(7), new Linear(7, 3)));
        Assert.Equal(before, target.StateDict().Select(p => p.Tensor.ToArray()).ToList());
        Assert.Throws<CheckpointException>(() => Checkpoint.Load(Path.Combine(_dir, "missing.ckpt"), target));
    }

    [Fact]
    public void ResumedRunContinuesBitIdentically()
    {
        var data = new Blobs(3).Sample(90);
        // Uninterrupted: 4 epochs.
        var full = Net(1);
        var tf = Compiled(full);
        var gFull = new Generator(7);
        var hFull = tf.Fit(data, 4, 10, generator: gFull);

        // Interrupted after 2 epochs, saved with the shuffling generator's state, resumed in a fresh process-like setup.
        var first = Net(1);
        var t1 = Compiled(first);
        var g1 = new Generator(7);
        t1.Fit(data, 2, 10, generator: g1);
        var path = Path.Combine(_dir, "resume.ckpt");
        Checkpoint.Save(path, first, t1.Optimizer, new CheckpointInfo { Epoch = 2, Generators = { ["shuffle"] = g1.GetState() } });

        var resumed = Net(42);
        var tr = Compiled(resumed);
        var info = Checkpoint.Load(path, resumed, tr.Optimizer);
        var g2 = new Generator(0);
        g2.SetState(info.Generators["shuffle"]);
        var hRes = tr.Fit(data, 4, 10, generator: g2, initialEpoch: info.Epoch);
        Assert.Equal(hFull["loss"].Skip(2), hRes["loss"]);
        foreach (var ((_, a), (_, b)) in full.StateDict().Zip(resumed.StateDict())) Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceAndRestoresBest()
    {
        var m = Net(1);
        var t = Compiled(m);
        var losses = new Queue<double>([1.0, 0.5, 0.6, 0.7, 0.8, 0.9]);
        var fake = new LambdaCallback((_, _) => { });
        var es = new EarlyStopping("score", patience: 2, mode: "min", restoreBestWeights: true);
        var inject = new InjectScore(losses);
        t.Fit(new Blobs(3).Sample(30), 10, 10, callbacks: [inject, es, fake], generator: new Generator(1));
        Assert.Equal(1, es.BestEpoch);
        Assert.Equal(4, es.StoppedEpoch);
        Assert.Equal(5, inject.Epochs);
        Assert.Equal(inject.WeightsAtEpoch[1], m.StateDict().Select(p => p.Tensor.ToArray()).ToList());
    }

    /// <summary>Replaces the logged metrics with a scripted "score" so that callback timing is exact.</summary>
    private sealed class InjectScore(Queue<double> scores) : Callback
    {
        public int Epochs { get; private set; }
        public List<List<float[]>> WeightsAtEpoch { get; } = [];
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
        {
            ((Dictionary<string, double>)logs)["score"] = scores.Dequeue();
            WeightsAtEpoch.Add(Trainer.Model.StateDict().Select(p => p.Tensor.ToArray()).ToList());
            Epochs++;
        }
    }

    [Fact]
    public void ModelCheckpointSavesOnlyImprovements()
    {
        var m = Net(1);
        var t = Compiled(m);
        var path = Path.Combine(_dir, "best.ckpt");
        var inject = new InjectScore(new Queue<double>([3, 2, 2.5, 1]));
        var mc = new ModelCheckpoint(path, "score", saveBestOnly: true, mode: "min");
        t.Fit(new Blobs(3).Sample(30), 4, 10, callbacks: [inject, mc], generator: new Generator(1));
        Assert.Equal(3, mc.Saves);
        Assert.Equal(4, Checkpoint.Load(path, Net(3)).Epoch);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void CsvLoggerSchedulerAndPlateau()
    {
        var m = Net(1);
        var t = Compiled(m);
        var csv = Path.Combine(_dir, "h.csv");
        var rates = new List<float>();
        var sched = new LearningRateScheduler(new StepDecay(1, 0.5f));
        var record = new LambdaCallback((_, _) => rates.Add(t.Optimizer!.LearningRate));
        t.Fit(new Blobs(3).Sample(30), 3, 10, callbacks: [new CsvLogger(csv), sched, record], generator: new Generator(1));
        var lines = File.ReadAllLines(csv);
        Assert.Equal("epoch,accuracy,loss", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.Equal([0.01f, 0.005f, 0.0025f], rates);

        var t2 = Compiled(Net(1));
        var plateau = new ReduceLROnPlateau("score", factor: 0.5f, patience: 2, mode: "min");
        var rates2 = new List<float>();
        var inject = new InjectScore(new Queue<double>([1, 1, 1, 1, 1]));
        t2.Fit(new Blobs(3).Sample(30), 5, 10, callbacks: [inject, plateau, new LambdaCallback((_, _) => rates2.Add(t2.Optimizer!.LearningRate))], generator: new Generator(1));
        Assert.Equal([0.01f, 0.01f, 0.005f, 0.005f, 0.0025f], rates2);
    }
}
