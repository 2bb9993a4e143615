using System.Diagnostics;
using Lab.Core;
using Lab.Core.Backends;
using Lab.Core.Cuda;
using Lab.Core.Nn;
using Lab.Core.Optim;
using Lab.Core.Tests.Cuda;
using Lab.Core.Tests.Ops;
using Lab.Models;

// Lab.Cuda.Check [--log FILE] [--no-perf] [--only NAME-FRAGMENT]
// Every CUDA check of Lab.Core.Tests (op registry and larger cases against the CPU, elementary-function
// accuracy, training steps, allocator, errors, CUDA graphs), then timings (`--only graph`: the graph checks
// and the graph timings alone). Prints failures and a summary; the
// log file gets every check and every passing section. Exit code: 0 all passed, 1 some failed, 2 CUDA not available.
string? logPath = null, only = null;
bool perf = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--log": logPath = args[++i]; break;
        case "--no-perf": perf = false; break;
        case "--only": only = args[++i]; break;
        default: Console.Error.WriteLine($"Unknown argument {args[i]}."); return 2;
    }
}
using var log = logPath is null ? TextWriter.Null : new StreamWriter(logPath) { AutoFlush = true };
void Say(string line) { Console.WriteLine(line); log.WriteLine(line); }

if (CudaRuntime.UnavailableReason is { } reason)
{
    Say("CUDA not available: " + reason);
    return 2;
}
var device = Device.Cuda();
var total = Stopwatch.StartNew();
CudaBackend gpu;
try { gpu = (CudaBackend)BackendRegistry.For(device); }
catch (DeviceUnavailableException e) { Say(e.Message); return 2; }
Say($"{gpu.Name}, compute capability {gpu.ComputeCapability}, {gpu.MultiprocessorCount} SMs, {gpu.TotalMemory / (1 << 20)} MiB, driver CUDA {CudaRuntime.DriverVersion}, cuBLAS {CudaRuntime.CuBlasPath}");
Say($"backend ready in {total.Elapsed.TotalSeconds:F2} s (kernel modules JIT-compiled by the driver)");

int passed = 0, failed = 0;
void Section(string name, Func<IEnumerable<Check>> run)
{
    if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase)) return;
    var watch = Stopwatch.StartNew();
    int p0 = passed, f0 = failed;
    try
    {
        foreach (var c in run())
        {
            log.WriteLine(c);
            if (c.Passed) passed++;
            else { failed++; Console.WriteLine(c); }
        }
    }
    catch (Exception e)
    {
        failed++;
        Say($"FAIL {name}: {e.GetType().Name}: {e.Message}");
        log.WriteLine(e.StackTrace);
    }
    var line = $"{(failed == f0 ? "PASS" : "FAIL")} [{name}] {passed - p0} passed, {failed - f0} failed ({watch.Elapsed.TotalSeconds:F2} s)";
    if (failed == f0) log.WriteLine(line); else Say(line);
}

foreach (var c in OpRegistry.All()) Section("op " + c.Name, () => CudaComparison.CompareCase(c, device));
foreach (var c in CudaCases.Large())
    Section("large " + c.Name, () => CudaComparison.CompareCase(c, device, CudaCases.LargeForwardTolerance, CudaCases.LargeGradientTolerance));
Section("math accuracy", () => CudaCases.MathAccuracy(device));
Section("mlp training", () => CudaCases.MlpTraining(device));
Section("cnn training", () => CudaCases.CnnTraining(device));
Section("trainer fit", () => CudaCases.TrainerFit(device));
Section("optimizer steps", () => CudaCases.OptimizerSteps(device));
Section("edge cases", () => CudaCases.EdgeCases(device));
Section("function transforms", () => CudaCases.FunctionalTransforms(device));
Section("allocator", () => CudaCases.AllocatorReuse(device));
Section("errors", () => CudaCases.Errors(device));
Section("graph dense layer", () => CudaGraphCases.DenseLayer(device));
Section("graph training step", () => CudaGraphCases.TrainingStep(device));
Section("graph errors", () => CudaGraphCases.Errors(device));
Section("traced steps", () => TracedCheck.Steps(device));
if (only is null || "nccl".Contains(only, StringComparison.OrdinalIgnoreCase))
{
    if (NcclCheck.Unavailable() is { } missing) Say("SKIP [nccl] " + missing);
    else Section("nccl", () => NcclCheck.OneRank(device));
}
Say($"checks: {passed} passed, {failed} failed ({total.Elapsed.TotalSeconds:F1} s)");

bool graphsOnly = only is not null && only.Contains("graph", StringComparison.OrdinalIgnoreCase);
if (perf && !graphsOnly)
{
    try { Timings(); }
    catch (Exception e) { failed++; Say($"FAIL timings: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
}
if (perf && (only is null || graphsOnly))
{
    try { GraphTimings(); }
    catch (Exception e) { failed++; Say($"FAIL graph timings: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
}
var stats = gpu.MemoryStats;
Say($"memory: {stats.InUse / 1e6:F1} MB in use, {stats.Cached / 1e6:F1} MB cached, {stats.Reserved / 1e6:F1} MB reserved, {stats.DriverAllocations} cuMemAlloc, {stats.CacheHits} cache hits, {stats.Collections} forced collections");
Say($"RESULT: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

void Timings()
{
    var g = new Generator(1);
    // Kernel timings start from a collected heap so that a forced collection does not land inside them.
    float Ms(int reps, Action a)
    {
        a();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return gpu.Time(() => { for (int i = 0; i < reps; i++) a(); }) / reps;
    }

    foreach (int n in new[] { 1024, 4096 })
    {
        var a = Tensor.RandN(g, [n, n], device: device);
        var b = Tensor.RandN(g, [n, n], device: device);
        float ms = Ms(10, () => Tensor.MatMul(a, b));
        Say($"perf matmul {n}x{n}x{n}: {ms:F3} ms, {2.0 * n * n * n / ms / 1e9:F1} TFLOP/s");
    }
    {
        int n = 1 << 24;
        var x = Tensor.RandN(g, [n], device: device);
        var y = Tensor.RandN(g, [n], device: device);
        float add = Ms(20, () => _ = x + y);
        Say($"perf add 16M: {add:F3} ms, {3.0 * 4 * n / add / 1e6:F0} GB/s");
        float exp = Ms(20, () => _ = x.Exp());
        Say($"perf exp 16M: {exp:F3} ms, {2.0 * 4 * n / exp / 1e6:F0} GB/s");
        float sum = Ms(20, () => _ = x.Sum());
        Say($"perf sum 16M: {sum:F3} ms, {4.0 * n / sum / 1e6:F0} GB/s");
        var s = Tensor.RandN(g, [4096, 1000], device: device);
        Say($"perf softmax 4096x1000: {Ms(20, () => _ = s.Softmax()):F3} ms");
        var c = Tensor.RandN(g, [32, 32, 13, 13], device: device).RequireGrad();
        var w = Tensor.RandN(g, [64, 32, 3, 3], device: device).RequireGrad();
        Say($"perf conv 32x32x13x13 * 64x32x3x3 forward: {Ms(20, () => _ = Tensor.Conv2d(c, w)):F3} ms");
        Say($"perf conv same, forward + backward: {Ms(20, () => Tensor.Conv2d(c, w).Sum().Backward()):F3} ms");
    }
    // Lab.Bench's AttentionBenchmarks step (bench/pytorch/mha.py times nn.MultiheadAttention on the same shapes):
    // gradients zeroed, self-attention forward, mean(y²), backward, inside a TensorScope, the loss read.
    foreach (var on in new[] { device, Device.Cpu })
        foreach (bool causal in new[] { false, true })
        {
            var mha = new MultiHeadAttention(8, 16, queryFeatures: 128, generator: new Generator(1));
            mha.To(on);
            var xs = Tensor.RandN(g, [32, 64, 128], device: on).RequireGrad();
            float MhaStep()
            {
                using var _ = TensorScope.Begin();
                mha.ZeroGrad();
                xs.Grad?.Zero();
                var loss = mha.Forward(xs, xs, useCausalMask: causal).Square().Mean();
                loss.Backward();
                return loss.Item();
            }
            for (int i = 0; i < 3; i++) MhaStep();
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 20; i++) MhaStep();
            Say($"perf mha b32 t64 d128 h8{(causal ? " causal" : "")} forward+backward on {on}: {watch.Elapsed.TotalMilliseconds / 20:F3} ms/step");
        }
    foreach (int batch in new[] { 32, 256 })
        TrainSteps($"mnist_cnn_b{batch}", () => new MnistCnn(new Generator(1)), [batch, 1, 28, 28], 10, batch, 200);
    TrainSteps("toy_mlp_b32", () => new ToyMlp(new Generator(1)), [32, 2], 5, 32, 500);
    TrainSteps("toy_mlp_b32 (cpu)", () => new ToyMlp(new Generator(1)), [32, 2], 5, 32, 500, Device.Cpu);
    TracedCheck.Timings(device, Say);
}

// mnist_cnn_b32's model at batch 32, the same work queued op by op (eager) and launched as one captured graph,
// each timed over the same number of steps after a warm-up, waiting for the GPU at the end. "+ upload" copies a
// new batch in before every step, as a training loop does (a host action between launches).
void GraphTimings()
{
    const int batch = 32, steps = 500;
    var g = new Generator(2);
    var images = Tensor.RandN(g, [batch, 1, 28, 28]).ToArray();
    var classes = Enumerable.Range(0, batch).Select(_ => (float)g.NextInt(10)).ToArray();
    Say($"CUDA graphs, mnist_cnn_b32 ({steps} steps each after 20 warm-up steps; SGD with momentum 0.9):");
    Say("| work | eager img/s | graph img/s | graph ÷ eager | eager ms/step | graph ms/step |");
    Say("| --- | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (name, update, upload) in new[] { ("forward + backward", false, false), ("training step", true, false), ("training step + upload", true, true) })
    {
        var model = CudaGraphCases.MnistSizedCnn(device);
        var opt = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var x = Tensor.FromArray(images, [batch, 1, 28, 28], device);
        var labels = Tensor.FromArray(classes, [batch], device);
        void Work()
        {
            if (update) { CudaGraphCases.Step(model, opt, x, labels); return; }
            opt.ZeroGrad();
            Losses.SparseCategoricalCrossEntropy(model.Call(x), labels, fromLogits: true).Backward();
        }
        double Seconds(Action step)
        {
            for (int i = 0; i < 20; i++) step();
            gpu.Synchronize();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                if (upload) x.CopyFrom(images);
                step();
            }
            gpu.Synchronize();
            return watch.Elapsed.TotalSeconds;
        }
        double eager = Seconds(Work);
        gpu.BeginCapture();
        Work();
        using var graph = gpu.EndCapture();
        double graphed = Seconds(graph.Launch);
        Say($"| {name} | {steps * batch / eager:F0} | {steps * batch / graphed:F0} | {eager / graphed:F2}x | {eager / steps * 1e3:F3} | {graphed / steps * 1e3:F3} |");
    }
}

void TrainSteps(string name, Func<Module> build, int[] inputShape, int classes, int batch, int steps, Device? on = null)
{
    var d = on ?? device;
    var model = build().To(d);
    var opt = new Adam(model.Parameters(), 1e-3f);
    var gen = new Generator(2);
    var x = Tensor.RandN(gen, inputShape, device: d);
    var labels = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => (float)gen.NextInt(classes)).ToArray(), [batch], d);
    Tensor Step()
    {
        opt.ZeroGrad();
        var loss = Losses.SparseCategoricalCrossEntropy(model.Call(x), labels);
        loss.Backward();
        opt.Step();
        return loss;
    }
    for (int i = 0; i < 20; i++) Step();
    float first = Step().Item();
    int gcs = GC.CollectionCount(0);
    var watch = Stopwatch.StartNew();
    Tensor last = x;
    for (int i = 0; i < steps; i++) last = Step();
    float final = last.Item(); // waits for the queued steps
    double seconds = watch.Elapsed.TotalSeconds;
    Say($"perf {name} on {d}: {steps * batch / seconds:F0} samples/s, {seconds / steps * 1e3:F3} ms/step (loss {first:F4} -> {final:F4}, {GC.CollectionCount(0) - gcs} gen0 GCs)");
}
