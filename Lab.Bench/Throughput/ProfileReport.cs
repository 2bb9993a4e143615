using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Diagnostics;
using Lab.Core.Nn;

namespace Lab.Bench.Throughput;

/// <summary>One conv or dense layer's achieved rate in one direction.</summary>
public sealed record LayerRate(string Layer, string Direction, double MsPerStep, double GflopPerStep)
{
    public double Gflops => GflopPerStep / (MsPerStep / 1000);
}

/// <summary>
/// <c>throughput --profile</c>: where a step's time goes. Forward time is charged to layers (exclusive of
/// their children), backward time to autograd node kinds and input shapes, and the harness times the loss,
/// the engine's bookkeeping and the optimizer as phases; what no hook saw is "unattributed". For conv and
/// dense layers it also gives the achieved GFLOP/s, to hold against the machine's peak.
/// </summary>
public sealed class ProfileReport
{
    private ProfileReport(string workload, string device, long steps, double stepSeconds, IReadOnlyList<OpTiming> rows,
        IReadOnlyList<LayerRate> layers, GcCost gc)
        => (Workload, Device, Steps, SecondsPerStep, Rows, Layers, Gc) = (workload, device, steps, stepSeconds, rows, layers, gc);

    /// <summary>Garbage collections during the profiled steps: pauses are charged to whichever row they hit.</summary>
    public sealed record GcCost(double PauseMsPerStep, double Gen0PerStep, double Gen1PerStep, double Gen2PerStep, double AllocatedBytesPerStep,
        double? PageFaultsPerStep);

    public string Workload { get; }
    public string Device { get; }
    public long Steps { get; }
    /// <summary>Wall time per step with the hooks on (they add a little).</summary>
    public double SecondsPerStep { get; }
    public IReadOnlyList<OpTiming> Rows { get; }
    public IReadOnlyList<LayerRate> Layers { get; }
    public GcCost Gc { get; }

    public static ProfileReport Collect(string workload, string device, WorkloadRun run, double seconds)
    {
        for (int i = 0; i < 3; i++) run.Step();
        run.Sync();
        OpProfiler.Reset();
        OpProfiler.Start();
        long steps = 0;
        var pause = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        long? faults = PageFaults.Count();
        var sw = Stopwatch.StartNew();
        try
        {
            do { run.Step(); steps++; } while (sw.Elapsed.TotalSeconds < seconds);
            run.Sync();
        }
        finally { OpProfiler.Stop(); }
        double total = sw.Elapsed.TotalSeconds;
        var gc = new GcCost((GC.GetTotalPauseDuration() - pause).TotalMilliseconds / steps,
            (GC.CollectionCount(0) - gen0) / (double)steps, (GC.CollectionCount(1) - gen1) / (double)steps,
            (GC.CollectionCount(2) - gen2) / (double)steps, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)steps,
            PageFaults.Count() - faults is long f ? f / (double)steps : null);
        var rows = OpProfiler.Snapshot();
        OpProfiler.Reset();
        return new ProfileReport(workload, device, steps, total / steps, rows, LayerRates(run.Models, rows, steps), gc);
    }

    /// <summary>Conv and dense layers: forward = the layer's own row (product, bias, activation); backward = its
    /// Conv2dBackward / MatMulBackward node (input and weight gradients; bias and activation are other rows).</summary>
    public static List<LayerRate> LayerRates(IEnumerable<Module> models, IReadOnlyList<OpTiming> rows, long steps)
    {
        var result = new List<LayerRate>();
        foreach (var model in models)
            foreach (var (name, m) in model.NamedModules())
            {
                if (m is not (Conv2d or Linear)) continue;
                var forward = rows.FirstOrDefault(r => r.Phase == "forward" && ReferenceEquals(r.Sample, m));
                if (forward is null || forward.InputShape.Length == 0) continue;
                double flops = ForwardFlops(m, forward.InputShape);
                string label = $"{name} {m.Describe()}";
                result.Add(new LayerRate(label, "forward", forward.Seconds / steps * 1000, flops / 1e9 * forward.Calls / steps));
                var weight = m is Conv2d c ? c.Weight : ((Linear)m).Weight;
                foreach (var back in rows.Where(r => r.Phase == "backward" && r.Sample is NodeSample n && n.LeafInputs.Length > 1 && ReferenceEquals(n.LeafInputs[1], weight)))
                {
                    var node = (NodeSample)back.Sample;
                    int products = (node.InputRequiresGrad[0] ? 1 : 0) + (node.InputRequiresGrad[1] ? 1 : 0);
                    result.Add(new LayerRate(label, products == 2 ? "backward (dX, dW)" : "backward (dW)",
                        back.Seconds / steps * 1000, products * flops / 1e9 * back.Calls / steps));
                }
            }
        return result;
    }

    /// <summary>2 x multiply-adds of one forward call on an input of the given shape.</summary>
    public static double ForwardFlops(Module m, int[] inputShape)
    {
        if (m is Linear l) return 2.0 * (ShapeUtil.Numel(inputShape) / l.InFeatures) * l.InFeatures * l.OutFeatures;
        var c = (Conv2d)m;
        int n = inputShape[0], h = inputShape[2], w = inputShape[3];
        var (kh, kw) = c.KernelSize;
        // "same" keeps the size (stride 1); otherwise the dilated kernel slides over the padded input.
        int oh = c.Padding.Same ? h : (h + 2 * c.Padding.H - c.Dilation.H * (kh - 1) - 1) / c.Stride.H + 1;
        int ow = c.Padding.Same ? w : (w + 2 * c.Padding.W - c.Dilation.W * (kw - 1) - 1) / c.Stride.W + 1;
        return 2.0 * n * c.OutChannels * oh * ow * (c.InChannels / c.Groups) * kh * kw;
    }

    /// <summary>Markdown: the top rows by time, phase totals, and the layer rates against a peak when given.</summary>
    public string ToMarkdown(int top, double? peakGflops, string peakSource)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        double stepMs = SecondsPerStep * 1000, attributed = Rows.Sum(r => r.Seconds) / Steps * 1000;
        sb.AppendLine(inv, $"#### {Workload} on {Device}: {stepMs:F3} ms per step with the hooks on ({Steps} steps)");
        sb.AppendLine();
        sb.AppendLine("| phase | ms/step | share |");
        sb.AppendLine("| --- | ---: | ---: |");
        foreach (var g in Rows.GroupBy(r => r.Phase).OrderByDescending(g => g.Sum(r => r.Seconds)))
        {
            double ms = g.Sum(r => r.Seconds) / Steps * 1000;
            sb.AppendLine(inv, $"| {g.Key} | {ms:F4} | {ms / stepMs:P1} |");
        }
        sb.AppendLine(inv, $"| unattributed (harness, data cycling, hooks) | {stepMs - attributed:F4} | {(stepMs - attributed) / stepMs:P1} |");
        sb.AppendLine(inv, $"| of all the above: GC pauses | {Gc.PauseMsPerStep:F4} | {Gc.PauseMsPerStep / stepMs:P1} |");
        sb.AppendLine();
        sb.AppendLine(inv, $"Managed allocation {ThroughputTable.Bytes(Gc.AllocatedBytesPerStep)} per step; collections per step: gen0 {Gc.Gen0PerStep:0.###}, gen1 {Gc.Gen1PerStep:0.###}, gen2 {Gc.Gen2PerStep:0.###}; minor page faults per step: {(Gc.PageFaultsPerStep is double pf ? pf.ToString("0.#", inv) : "n/a")}.");
        sb.AppendLine();
        sb.AppendLine("| phase | layer / op | input shape | calls/step | µs/call | ms/step | share | alloc B/step |");
        sb.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in Rows.Take(top))
        {
            double ms = r.Seconds / Steps * 1000;
            sb.AppendLine(inv, $"| {r.Phase} | {r.Label} | {(r.InputShape.Length > 0 ? ShapeUtil.Format(r.InputShape) : "")} | {r.Calls / (double)Steps:0.##} | {r.Seconds / r.Calls * 1e6:F1} | {ms:F4} | {ms / stepMs:P1} | {r.AllocatedBytes / (double)Steps:0.#} |");
        }
        if (Rows.Count > top) sb.AppendLine(inv, $"| | ({Rows.Count - top} more rows, {Rows.Skip(top).Sum(r => r.Seconds) / Steps * 1000:F4} ms/step) | | | | | | {Rows.Skip(top).Sum(r => r.AllocatedBytes) / (double)Steps:0.#} |");
        // Layer rates say something only for the CNNs (the MLPs' products are a few hundred multiply-adds).
        if (Layers.Any(l => l.Layer.Contains("Conv2d(", StringComparison.Ordinal)))
        {
            sb.AppendLine();
            sb.AppendLine(peakGflops is double p0
                ? $"Achieved GFLOP/s per layer against a practical peak of {p0.ToString("F0", inv)} GFLOP/s ({peakSource}):"
                : "Achieved GFLOP/s per layer:");
            sb.AppendLine();
            sb.AppendLine("| layer | direction | MFLOP/step | ms/step | GFLOP/s | of peak |");
            sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
            foreach (var l in Layers)
                sb.AppendLine(inv, $"| {l.Layer} | {l.Direction} | {l.GflopPerStep * 1000:F2} | {l.MsPerStep:F3} | {l.Gflops:F1} | {(peakGflops is double p ? (l.Gflops / p).ToString("P0", inv) : "")} |");
            double flop = Layers.Sum(l => l.GflopPerStep), ms = Layers.Sum(l => l.MsPerStep);
            sb.AppendLine(inv, $"| all conv/dense | both | {flop * 1000:F2} | {ms:F3} | {flop / (ms / 1000):F1} | {(peakGflops is double p2 ? (flop / (ms / 1000) / p2).ToString("P0", inv) : "")} |");
            sb.AppendLine(inv, $"| whole step | | {flop * 1000:F2} | {stepMs:F3} | {flop / SecondsPerStep:F1} | {(peakGflops is double p3 ? (flop / SecondsPerStep / p3).ToString("P0", inv) : "")} |");
        }
        return sb.ToString();
    }
}
