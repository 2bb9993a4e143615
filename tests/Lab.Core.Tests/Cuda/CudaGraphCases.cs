using Lab.Core.Backends;
using Lab.Core.Cuda;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Tests.Cuda;

/// <summary>
/// CUDA graphs on the device, through <see cref="IGraphCapture"/> only (what the traced step uses): work captured once
/// and launched again must give exactly the eager results (the same kernels with the same arguments, in the same
/// order), nothing may run while it is captured, and what a capture cannot hold must fail with a clear error that
/// leaves the backend usable. Shared by the xunit tests and Lab.Cuda.Check.
/// </summary>
public static class CudaGraphCases
{
    /// <summary>y = relu(x W + b), acc += y / 2 as backend calls: captured once, launched three times on new inputs.</summary>
    public static List<Check> DenseLayer(Device device)
    {
        var checks = new List<Check>();
        var backend = BackendRegistry.For(device);
        var capture = (IGraphCapture)backend;
        const int n = 37, k = 53, m = 29; // odd sizes: ragged blocks everywhere
        var g = new Generator(21);
        var w = Tensor.RandN(g, [k, m], device: device);
        var b = Tensor.RandN(g, [m], device: device);
        var accStart = Tensor.RandN(g, [n, m]).ToArray();
        (Tensor X, Tensor Xw, Tensor Y, Tensor Acc) Buffers() =>
            (Tensor.Zeros([n, k], device), Tensor.Zeros([n, m], device), Tensor.Zeros([n, m], device), Tensor.FromArray(accStart, [n, m], device));
        void Dense((Tensor X, Tensor Xw, Tensor Y, Tensor Acc) t)
        {
            backend.MatMul(t.X, false, 0, w, false, 0, t.Xw, 1, n, m, k, 0f);
            backend.Binary(BinaryOp.Add, t.Xw, b, t.Y);
            backend.Unary(UnaryOp.Relu, t.Y, t.Y);
            backend.Axpy(0.5f, t.Y, t.Acc);
        }

        var eager = Buffers();
        var graphed = Buffers();
        graphed.Y.Fill(float.NaN);
        capture.BeginCapture();
        Dense(graphed);
        using var graph = capture.EndCapture();
        checks.Add(new("graph dense: nothing ran while it was captured", graphed.Y.ToArray().Count(v => !float.IsNaN(v)), 0));
        for (int launch = 1; launch <= 3; launch++)
        {
            var x = Tensor.RandN(g, [n, k]).ToArray();
            graphed.X.CopyFrom(x);
            eager.X.CopyFrom(x);
            graph.Launch();
            Dense(eager);
            checks.Add(Exact($"graph dense: relu(x W + b) after launch {launch} = eager", graphed.Y, eager.Y));
        }
        checks.Add(Exact("graph dense: acc after three launches of acc += y / 2 = eager", graphed.Acc, eager.Acc));
        float[] expected = eager.Acc.ToArray();
        checks.Add(new("graph dense: three launches accumulated (acc moved)", accStart.Zip(expected).Count(p => p.First == p.Second) == accStart.Length ? 1 : 0, 0));
        return checks;
    }

    /// <summary>
    /// A whole training step of an MNIST-sized CNN (zero grads, forward, cross-entropy, backward, SGD with momentum)
    /// captured once and launched on three new batches, against the same steps run eagerly on an identical model.
    /// </summary>
    public static List<Check> TrainingStep(Device device)
    {
        var checks = new List<Check>();
        var capture = (IGraphCapture)BackendRegistry.For(device);
        const int batch = 32;
        var g = new Generator(31);
        var images = Enumerable.Range(0, 4).Select(_ => Tensor.RandN(g, [batch, 1, 28, 28]).ToArray()).ToArray();
        var labels = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, batch).Select(_ => (float)g.NextInt(10)).ToArray()).ToArray();

        var eagerModel = MnistSizedCnn(device);
        var eagerOpt = new Sgd(eagerModel.Parameters(), 0.05f, momentum: 0.9f);
        var graphModel = MnistSizedCnn(device);
        var graphOpt = new Sgd(graphModel.Parameters(), 0.05f, momentum: 0.9f);
        var x = Tensor.Zeros([batch, 1, 28, 28], device);
        var y = Tensor.Zeros([batch], device);

        // A warm-up step eagerly on both (the gradients exist afterwards, as in a traced step's recording pass).
        Step(eagerModel, eagerOpt, Tensor.FromArray(images[0], [batch, 1, 28, 28], device), Tensor.FromArray(labels[0], [batch], device));
        x.CopyFrom(images[0]);
        y.CopyFrom(labels[0]);
        Step(graphModel, graphOpt, x, y);

        capture.BeginCapture();
        var graphLoss = Step(graphModel, graphOpt, x, y);
        using var graph = capture.EndCapture();
        for (int i = 1; i <= 3; i++)
        {
            x.CopyFrom(images[i]);
            y.CopyFrom(labels[i]);
            graph.Launch();
            var eagerLoss = Step(eagerModel, eagerOpt, Tensor.FromArray(images[i], [batch, 1, 28, 28], device), Tensor.FromArray(labels[i], [batch], device));
            checks.Add(Exact($"graph training step: loss of launch {i} = eager", graphLoss, eagerLoss));
        }
        var pairs = graphModel.Parameters().Zip(eagerModel.Parameters()).ToList();
        for (int i = 0; i < pairs.Count; i++)
            checks.Add(Exact($"graph training step: parameter {i} {ShapeUtil.Format(pairs[i].First.Shape)} after three launches = eager", pairs[i].First, pairs[i].Second));
        return checks;
    }

    /// <summary>What a capture cannot hold fails with the operation's name, and the backend goes on working.</summary>
    public static List<Check> Errors(Device device)
    {
        var checks = new List<Check>();
        var backend = (CudaBackend)BackendRegistry.For(device);
        IGraphCapture capture = backend;
        var t = Tensor.FromArray([1f, 2f, 3f], [3], device);
        var heldBefore = backend.MemoryStats.GraphHeld;

        capture.BeginCapture();
        t.AddInPlace(t); // something to record
        checks.Add(Fails("graph errors: Download during a capture", () => t.ToArray(), "Download (ToArray, Item) was called while a CUDA graph is being captured"));
        checks.Add(Fails("graph errors: Upload during a capture", () => t.CopyFrom([4f, 5f, 6f]), "Upload (a host-to-device copy) was called while a CUDA graph is being captured"));
        checks.Add(Fails("graph errors: Synchronize during a capture", backend.Synchronize, "Synchronize was called while"));
        checks.Add(Fails("graph errors: nested BeginCapture", capture.BeginCapture, "captures do not nest"));
        checks.Add(Fails("graph errors: work from another thread", () =>
        {
            Exception? e = null;
            var other = new Thread(() => e = Record(() => _ = t + 1f));
            other.Start();
            other.Join();
            if (e is not null) throw e;
        }, "would be recorded into it"));
        var graph = capture.EndCapture();
        checks.Add(new("graph errors: the capture survived the refused calls and ended", backend.IsCapturing ? 1 : 0, 0));
        checks.Add(Exact("graph errors: nothing ran while captured", t, Tensor.FromArray([1f, 2f, 3f], [3])));
        graph.Launch();
        graph.Launch();
        checks.Add(Exact("graph errors: two launches of t += t", t, Tensor.FromArray([4f, 8f, 12f], [3])));
        graph.Dispose();
        checks.Add(Fails("graph errors: Launch after Dispose", graph.Launch, "Cannot access a disposed object", typeof(ObjectDisposedException)));
        checks.Add(Fails("graph errors: EndCapture without BeginCapture", () => capture.EndCapture(), "EndCapture was called without a BeginCapture"));

        // A convolution's scratch buffers are held for the graph while it lives and come back when it is disposed.
        var image = Tensor.RandN(new Generator(3), [4, 3, 12, 12], device: device);
        var kernel = Tensor.RandN(new Generator(4), [8, 3, 3, 3], device: device);
        capture.BeginCapture();
        var conv = Tensor.Conv2d(image, kernel);
        var convGraph = capture.EndCapture();
        long held = backend.MemoryStats.GraphHeld - heldBefore;
        convGraph.Launch();
        checks.Add(new("graph memory: a captured convolution's scratch is held for its graph", held > 0 ? 0 : 1, 0, $"({held:N0} bytes held)"));
        checks.Add(Exact("graph memory: the captured convolution = eager", conv, Tensor.Conv2d(image, kernel)));
        convGraph.Dispose();
        checks.Add(new("graph memory: disposing the graph gives its blocks back", backend.MemoryStats.GraphHeld - heldBefore, 0));
        checks.Add(Exact("graph errors: eager work after all of it", (t + 1f), Tensor.FromArray([5f, 9f, 13f], [3])));
        return checks;
    }

    /// <summary>The CNN of Lab.Models' MnistCnn (mnist_cnn_b32's model), built from Lab.Core's layers.</summary>
    public static Module MnistSizedCnn(Device device)
    {
        var g = new Generator(1);
        return new Sequential(
            new Conv2d(1, 32, 3, activation: Activation.Relu, generator: g),
            new MaxPool2d(2),
            new Conv2d(32, 64, 3, activation: Activation.Relu, generator: g),
            new MaxPool2d(2),
            new Conv2d(64, 64, 3, activation: Activation.Relu, generator: g),
            new Flatten(),
            new Linear(576, 64, Activation.Relu, generator: g),
            new Linear(64, 10, generator: g)).To(device);
    }

    /// <summary>Zero the gradients, forward, cross-entropy from logits, backward, update: one training step, all queued on the device.</summary>
    public static Tensor Step(Module model, Optimizer opt, Tensor x, Tensor labels)
    {
        opt.ZeroGrad();
        var loss = Losses.SparseCategoricalCrossEntropy(model.Call(x), labels, fromLogits: true);
        loss.Backward();
        opt.Step();
        return loss;
    }

    private static Check Exact(string name, Tensor got, Tensor want)
    {
        float[] a = got.ToArray(), b = want.ToArray();
        double error = a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (p, q) => BitConverter.SingleToInt32Bits(p) == BitConverter.SingleToInt32Bits(q) ? 0.0 : Math.Abs((double)p - q) + 1e-30).DefaultIfEmpty().Max();
        return new Check(name, error, 0, a.Length > 0 ? $"(first: {a[0]} vs {b[0]})" : "");
    }

    private static Exception? Record(Action a)
    {
        try { a(); return null; }
        catch (Exception e) { return e; }
    }

    private static Check Fails(string name, Action a, string message, Type? type = null)
    {
        var e = Record(a);
        bool ok = e is not null && (type ?? typeof(InvalidOperationException)).IsInstanceOfType(e) && e.Message.Contains(message);
        return new Check(name, ok ? 0 : 1, 0, e is null ? "(nothing was thrown)" : $"({e.GetType().Name}: {e.Message})");
    }
}
