using System.CommandLine;
using Lab.Core;
using Lab.Core.Data;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Training;
using Lab.Experiments.Cli;
using Lab.Experiments.Figures;
using static Lab.Core.Nn.Functional;

namespace Lab.Experiments.Experiments;

/// <summary>
/// Seed 002, Keras's functional API: a model with two inputs and two outputs whose encoder is shared by both inputs
/// (a siamese layer), trained with a loss and a loss weight per output, and notebook 002's Inception module, each
/// summarised with Keras's "Connected to" column and drawn as plot_model draws it (model_*.png/svg, and .dot for Graphviz).
/// </summary>
public sealed class FunctionalExperiment : IExperiment
{
    public string Name => "functional";
    public string Description => "functional API: two inputs, two outputs, a shared encoder (fit per-output losses); Inception module; model plots";
    public static readonly Option<int> BatchSize = Define.Int("--batch-size", "mini-batch size", 32, min: 1);
    public IReadOnlyList<Option> Options => [BatchSize];

    public void Run(ExperimentContext ctx)
    {
        // Data: "diff" regresses mean(a) - mean(b), "sign" classifies whether mean(a) + mean(b) is positive.
        int n = ctx.Quick ? 256 : 2048;
        var train = TwinData(n, ctx.Rng(1));
        var test = TwinData(512, ctx.Rng(2));

        // Model: one encoder called on both inputs, its two codes joined, a head per output.
        var (a, b) = (Input([8], name: "a"), Input([8], name: "b"));
        var encoder = new Linear(8, 32, Activation.Tanh, generator: ctx.Rng(3)) { Name = "encoder" };
        var joined = new Concatenate { Name = "joined" }.Call(encoder.Call(a), encoder.Call(b));
        var hidden = new Linear(64, 32, Activation.Relu, generator: ctx.Rng(4)) { Name = "hidden" }.Call(joined);
        var diff = new Linear(32, 1, generator: ctx.Rng(5)) { Name = "diff" }.Call(hidden);
        var sign = new Linear(32, 2, Activation.Softmax, generator: ctx.Rng(6)) { Name = "sign" }.Call(hidden);
        var model = new Model([a, b], [diff, sign], name: "twin");
        model.To(ctx.Device);
        ctx.Log(model.Summary());

        var trainer = new Trainer(model) { Output = ctx.Output, NonFiniteHint = ctx.NonFiniteHint() };
        trainer.Compile(new Adam(model.Parameters(), lr: 3e-3f),
            new Dictionary<string, Func<Tensor, Tensor, Tensor>>
            {
                ["diff"] = (p, y) => Losses.Mse(p, y),
                ["sign"] = (p, y) => Losses.SparseCategoricalCrossEntropy(p, y),
            },
            lossWeights: new Dictionary<string, float> { ["diff"] = 4f, ["sign"] = 1f },
            metrics: new Dictionary<string, Metric[]> { ["sign"] = [new SparseCategoricalAccuracy()] });
        var history = trainer.Fit(train, ctx.Epochs(20), ctx.Get(BatchSize), validationData: test,
            callbacks: ctx.StandardCallbacks(), generator: ctx.Rng(7));
        var result = trainer.Evaluate(test, verbose: 0);
        foreach (var key in new[] { "loss", "diff_loss", "sign_loss", "sign_accuracy" }) ctx.Metric("test_" + key, result[key]);
        ctx.Metric("parameters", model.ParameterCount());
        ctx.WriteHistory(history);
        ctx.Log($"test: diff mse {result["diff_loss"]:0.0000}, sign accuracy {result["sign_accuracy"]:0.0000}");

        var inception = Inception();
        ctx.Log(inception.Summary());
        ctx.WriteText("summary.txt", FunctionalSummary.Render(model) + "\n" + FunctionalSummary.Render(inception));
        foreach (var (name, m) in new[] { ("twin", model), ("inception", inception) })
        {
            var graph = m.Graph();
            ctx.WriteText($"model_{name}.dot", graph.ToDot());
            ModelPlot.Save(graph, ctx.PathFor($"model_{name}.png"));
            ModelPlot.Save(graph, ctx.PathFor($"model_{name}.svg"));
        }
    }

    private static MultiDataset TwinData(int n, Generator g)
    {
        var (a, b) = (Tensor.RandN(g, [n, 8]), Tensor.RandN(g, [n, 8]));
        var (ma, mb) = (a.Mean(1), b.Mean(1));
        return MultiDataset.FromTensors(new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b },
            new Dictionary<string, Tensor> { ["diff"] = (ma - mb).Reshape(n, 1), ["sign"] = (ma + mb).Gt(0f) });
    }

    /// <summary>Notebook 002's Inception module (channels first): four branches with stride 2, joined along the channels.</summary>
    private static Model Inception()
    {
        var x = Input([16, 32, 32], name: "x");
        Conv2d Conv(int cin, int cout, int k, int stride = 1, string? name = null) =>
            new(cin, cout, k, stride, padding: k / 2, activation: Activation.Relu) { Name = name };
        var branchA = Conv(16, 32, 1, 2, "branch_a").Call(x);
        var branchB = Conv(32, 32, 3, 2, "branch_b_3x3").Call(Conv(16, 32, 1, name: "branch_b_1x1").Call(x));
        var branchC = Conv(16, 32, 3, name: "branch_c_3x3").Call(new AvgPool2d(3, 2, 1) { Name = "branch_c_pool" }.Call(x));
        var d = Conv(32, 32, 3, name: "branch_d_3x3").Call(Conv(16, 32, 1, name: "branch_d_1x1").Call(x));
        var branchD = Conv(32, 32, 3, 2, "branch_d_3x3_s2").Call(d);
        var output = new Concatenate(1) { Name = "modules" }.Call(branchA, branchB, branchC, branchD);
        return new Model(x, output, name: "inception");
    }
}
