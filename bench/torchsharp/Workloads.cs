using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TorchSharpPeer;

/// <summary>
/// The six seed workloads of bench/pytorch/seed_workloads.py in TorchSharp: the same Keras-style models (Glorot-uniform
/// weights, zero biases), batches, optimizers (Adam with Keras's eps 1e-7) and step definitions.
/// </summary>
public static class Workloads
{
    public static readonly string[] Names = ["toy_mlp_b10", "digits_cnn_b10", "vae_digits_b16", "gan_digits_b16_d5", "score_toy_b16", "mnist_cnn_b32"];

    public static int DefaultBatch(string name) => name switch
    {
        "toy_mlp_b10" or "digits_cnn_b10" => 10,
        "vae_digits_b16" or "gan_digits_b16_d5" or "score_toy_b16" => 16,
        "mnist_cnn_b32" => 32,
        _ => 0,
    };

    /// <summary>The convolutions a workload runs, as (transposed, in, out, kernel, input side): the oneDNN check's cases.</summary>
    public static IReadOnlyList<(bool Transposed, int In, int Out, int Kernel, int Side)> Convolutions(string name) => name switch
    {
        "digits_cnn_b10" => [(false, 1, 4, 3, 8), (false, 4, 8, 3, 6), (false, 8, 8, 3, 4)],
        "vae_digits_b16" or "gan_digits_b16_d5" =>
            [(false, 1, 4, 3, 8), (false, 4, 8, 3, 6), (false, 8, 16, 3, 4), (true, 16, 8, 2, 4), (true, 8, 4, 2, 5), (true, 4, 1, 3, 6)],
        "mnist_cnn_b32" => [(false, 1, 32, 3, 28), (false, 32, 64, 3, 13), (false, 64, 64, 3, 5)],
        _ => [],
    };

    public static Run Create(string name, int batch, Device device) => name switch
    {
        "toy_mlp_b10" or "digits_cnn_b10" or "mnist_cnn_b32" => new ClassifierRun(name, batch, device),
        "vae_digits_b16" => new VaeRun(batch, device),
        "gan_digits_b16_d5" => new GanRun(batch, device),
        "score_toy_b16" => new ScoreRun(batch, device),
        _ => throw new ArgumentException($"unknown workload {name}"),
    };

    /// <summary>Glorot-uniform weights and zero biases, Keras's defaults (GenLab's InitStyle.Keras).</summary>
    public static T KerasInit<T>(T module) where T : nn.Module
    {
        using var _ = no_grad();
        foreach (var m in module.modules())
        {
            var (w, b) = m switch
            {
                Linear l => (l.weight, l.bias),
                Conv2d c => (c.weight, c.bias),
                ConvTranspose2d t => (t.weight, t.bias),
                _ => (null, null),
            };
            if (w is not null) nn.init.xavier_uniform_(w);
            if (b is not null) nn.init.zeros_(b);
        }
        return module;
    }

    public static Sequential EncoderTrunk(int last) => nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, last, 3), nn.ReLU(), nn.Flatten());

    /// <summary>The VAE decoder / GAN generator trunk: Dense(10->256, relu), Reshape(16,4,4), ConvT 2x2, 2x2, 3x3 (4->5->6->8).</summary>
    public static Sequential Decoder(int latent, bool batchNorm, Func<nn.Module<Tensor, Tensor>> hidden)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Linear(latent, 256), nn.ReLU(), nn.Unflatten(1, [16, 4, 4]) };
        foreach (var (cin, cout, k) in new[] { (16, 8, 2), (8, 4, 2) })
        {
            if (batchNorm) layers.Add(nn.BatchNorm2d(cin, eps: 1e-3, momentum: 0.01));
            layers.Add(nn.ConvTranspose2d(cin, cout, k));
            layers.Add(hidden());
        }
        if (batchNorm) layers.Add(nn.BatchNorm2d(4, eps: 1e-3, momentum: 0.01));
        layers.Add(nn.ConvTranspose2d(4, 1, 3));
        layers.Add(nn.Sigmoid());
        return nn.Sequential(layers);
    }
}

/// <summary>A workload ready to step: model(s), optimizer(s) and a pool of resident batches.</summary>
public abstract class Run
{
    public const int Pool = 8; // batches resident on the device, cycled through (as in the GenLab harness)
    public const double AdamEps = 1e-7; // Keras's Adam epsilon
    private int _i;
    private Tensor? _lastLoss;

    protected Run(int batch, Device device)
    {
        Batch = batch;
        Device = device;
        Data = new Generator(2);
        manual_seed(1);
    }

    public int Batch { get; }
    public Device Device { get; }
    protected Generator Data { get; }
    public virtual int ImagesPerStep => Batch;

    /// <summary>One optimizer update (the GAN: its five D updates and one G update), its temporaries freed on return.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        var loss = StepLoss();
        _lastLoss?.Dispose();
        _lastLoss = loss.detach().DetachFromDisposeScope();
    }

    protected abstract Tensor StepLoss();

    /// <summary>The last loss as a number (CPU work is synchronous; this is where a GPU would wait).</summary>
    public double Sync() => _lastLoss?.item<float>() ?? 0;

    protected int Next()
    {
        int i = _i;
        _i = (_i + 1) % Pool;
        return i;
    }

    protected Tensor[] Images(params long[] shape) =>
        Enumerable.Range(0, Pool).Select(_ => rand([Batch, .. shape], generator: Data).to(Device)).ToArray();

    protected Tensor[] Points() => Enumerable.Range(0, Pool).Select(_ => randn([Batch, 2], generator: Data).to(Device)).ToArray();

    protected static optim.Optimizer Adam(IEnumerable<Parameter> parameters, double lr) => optim.Adam(parameters, lr: lr, eps: AdamEps);
}

public sealed class ClassifierRun : Run
{
    private const double ProbEps = 1e-7; // Keras's clipping of probabilities before the logarithm
    private readonly Sequential _model;
    private readonly optim.Optimizer _opt;
    private readonly Tensor[] _inputs, _labels;

    public ClassifierRun(string name, int batch, Device device) : base(batch, device)
    {
        _model = Workloads.KerasInit(name switch
        {
            "toy_mlp_b10" => nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 5), nn.Softmax(1)),
            "digits_cnn_b10" => nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
                nn.Flatten(), nn.Linear(32, 10), nn.Softmax(1)),
            _ => nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(1)),
        }).to(device);
        _inputs = name == "toy_mlp_b10" ? Points() : name == "digits_cnn_b10" ? Images(1, 8, 8) : Images(1, 28, 28);
        int classes = name == "toy_mlp_b10" ? 5 : 10;
        _labels = Enumerable.Range(0, Pool).Select(p => tensor(Enumerable.Range(0, batch).Select(i => (long)((i * 7 + p) % classes)).ToArray(), device: device)).ToArray();
        _opt = Adam(_model.parameters(), 1e-3);
    }

    protected override Tensor StepLoss()
    {
        int i = Next();
        _model.zero_grad(set_to_none: true);
        // Keras's sparse categorical cross-entropy on a softmax output: -log(clip(p[label])).
        var p = _model.call(_inputs[i]);
        var loss = -p.gather(1, _labels[i].unsqueeze(1)).clamp(ProbEps, 1 - ProbEps).log().mean();
        loss.backward();
        _opt.step();
        return loss;
    }
}

public sealed class VaeRun : Run
{
    private const double Temperature = 0.01;
    private readonly Sequential _encoder, _decoder;
    private readonly Linear _mu, _logVar;
    private readonly optim.Optimizer _opt;
    private readonly Tensor[] _inputs;

    public VaeRun(int batch, Device device) : base(batch, device)
    {
        // All four built, then initialised, in seed_workloads.py's order: the same draws from the seeded generator.
        _encoder = Workloads.EncoderTrunk(16);
        _mu = nn.Linear(64, 10);
        _logVar = nn.Linear(64, 10);
        _decoder = Workloads.Decoder(10, batchNorm: false, () => nn.LeakyReLU(0.2));
        foreach (var m in new nn.Module[] { _encoder, _mu, _logVar, _decoder }) Workloads.KerasInit(m).to(device);
        _inputs = Images(1, 8, 8);
        _opt = Adam(_encoder.parameters().Concat(_mu.parameters()).Concat(_logVar.parameters()).Concat(_decoder.parameters()), 1e-3);
    }

    protected override Tensor StepLoss()
    {
        var x = _inputs[Next()];
        foreach (var m in new nn.Module[] { _encoder, _mu, _logVar, _decoder }) m.zero_grad(set_to_none: true);
        var h = _encoder.call(x);
        var (mu, logVar) = (_mu.call(h), _logVar.call(h));
        var z = mu + randn_like(mu) * (logVar * 0.5).exp();
        var recon = _decoder.call(z);
        var kl = ((logVar.exp() + mu * mu - logVar - 1) * 0.5).mean();
        var loss = kl + (recon - x).square().mean() / (2 * Temperature);
        loss.backward();
        _opt.step();
        return loss;
    }
}

public sealed class GanRun : Run
{
    public const int DUpdates = 5;
    private readonly Sequential _gen, _disc;
    private readonly optim.Optimizer _gOpt, _dOpt;
    private readonly Tensor[] _inputs;

    public GanRun(int batch, Device device) : base(batch, device)
    {
        _gen = Workloads.KerasInit(Workloads.Decoder(10, batchNorm: true, () => nn.ReLU())).to(device);
        _disc = Workloads.KerasInit(nn.Sequential(Workloads.EncoderTrunk(16), nn.Linear(64, 1))).to(device);
        _inputs = Images(1, 8, 8);
        _gOpt = Adam(_gen.parameters(), 1e-3);
        _dOpt = Adam(_disc.parameters(), 1e-3);
    }

    public override int ImagesPerStep => Batch * DUpdates;

    protected override Tensor StepLoss()
    {
        var real = _inputs[Next()];
        for (int k = 0; k < DUpdates; k++)
        {
            Tensor fake;
            using (no_grad())
            {
                _gen.eval();
                fake = _gen.call(randn([Batch, 10], device: Device));
            }
            _disc.zero_grad(set_to_none: true);
            var dLoss = (F.softplus(-_disc.call(real)) + F.softplus(_disc.call(fake))).mean();
            dLoss.backward();
            _dOpt.step();
        }
        _gen.train();
        _gen.zero_grad(set_to_none: true);
        var gLoss = F.softplus(-_disc.call(_gen.call(randn([Batch, 10], device: Device)))).mean();
        gLoss.backward();
        _gOpt.step();
        return gLoss;
    }
}

public sealed class ScoreRun : Run
{
    private readonly Sequential _model;
    private readonly optim.Optimizer _opt;
    private readonly Tensor[] _inputs;

    public ScoreRun(int batch, Device device) : base(batch, device)
    {
        _model = Workloads.KerasInit(nn.Sequential(nn.Linear(2, 32), nn.Softplus(), nn.Linear(32, 32), nn.Softplus(), nn.Linear(32, 2))).to(device);
        _inputs = Points();
        _opt = Adam(_model.parameters(), 1e-2);
    }

    protected override Tensor StepLoss()
    {
        var x = _inputs[Next()];
        _model.zero_grad(set_to_none: true);
        var loss = ImplicitScoreLoss(_model, x);
        loss.backward();
        _opt.step();
        return loss;
    }

    /// <summary>
    /// mean(|s(x)|^2 + 2 tr(ds/dx)), the trace built column by column with create_graph (second order). TorchSharp's
    /// autograd.grad frees the graph unless retain_graph is given beside create_graph (PyTorch defaults retain_graph to
    /// create_graph); the second column and the final backward need it.
    /// </summary>
    public static Tensor ImplicitScoreLoss(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        var xi = x.detach().requires_grad_();
        var s = model.call(xi);
        Tensor? trace = null;
        for (int i = 0; i < s.shape[1]; i++)
        {
            var column = autograd.grad([s.narrow(1, i, 1).sum()], [xi], create_graph: true, retain_graph: true)[0];
            var diag = column.narrow(1, i, 1);
            trace = trace is null ? diag : trace + diag;
        }
        return ((s * s).sum(1, keepdim: true) + trace! * 2).mean();
    }
}
