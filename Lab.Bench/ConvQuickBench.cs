using Lab.Core.Tests.Cpu;
using System.Diagnostics;
using Lab.Core;
using Lab.Core.Backends;
using Lab.Core.Cpu;

namespace Lab.Bench;

/// <summary>
/// Seconds-long tuning runs for the convolution kernels: best-of-rounds microseconds and GFLOP/s per seed layer and
/// pass, optionally with the naive loops beside them.
/// `conv-quick [naive] [gemm] [chunk=F] [minmacs=M] [threads=T] [orient=0|1|2] [wide=P] [forward|gradInput|gradWeight|gradBias|poolGrad] [shape...]`
/// (gemm: the im2col/GEMM path even for the tiny layers that <see cref="DirectConvLanes"/> takes). poolGrad times the
/// backward of the layer followed by ReLU and a 2x2 max pool both ways: the dense products of the scattered gradient,
/// and straight from the pooled gradient (Cpu.ConvPoolGrad), rounds of the two interleaved.
/// </summary>
public static class ConvQuickBench
{
    public const string Usage = "[naive] [gemm] [profile] [chunk=F] [minmacs=M] [threads=T] [orient=0|1|2] [wide=P] [forward|gradInput|gradWeight|gradBias|poolGrad] [shape...]";

    public static void Run(string[] args)
    {
        const string command = "conv-quick";
        TuningArgs.Check(command, Usage, args, ["naive", "gemm", "profile", "forward", "gradInput", "gradWeight", "gradBias", "poolGrad", .. ConvShapes.All.Keys],
            ["chunk", "minmacs", "threads", "orient", "wide"]);
        foreach (var arg in args)
        {
            if (arg.StartsWith("chunk=")) ConvGemm.ChunkFloats = (int)TuningArgs.Value(command, arg, 1, 1 << 28);
            else if (arg.StartsWith("minmacs=")) ConvGemm.MinMacsForThreads = TuningArgs.Value(command, arg, 0, long.MaxValue);
            else if (arg.StartsWith("threads=")) Gemm.MaxThreads = (int)TuningArgs.Value(command, arg, 1, 1024);
            else if (arg.StartsWith("orient=")) ConvGemm.GradWeightOrientation = (int)TuningArgs.Value(command, arg, 0, 2);
            else if (arg.StartsWith("wide=")) ConvGemm.WideMap = (int)TuningArgs.Value(command, arg, 0, int.MaxValue);
        }
        bool naive = args.Contains("naive");
        DirectConvLanes.Disabled = args.Contains("gemm");
        if (args.Contains("profile"))
        {
            foreach (var name in args.Where(ConvShapes.All.ContainsKey)) Profile(name);
            return;
        }
        var names = args.Where(ConvShapes.All.ContainsKey).ToList();
        s_passes = args.Where(a => a is "forward" or "gradInput" or "gradWeight" or "gradBias" or "poolGrad").ToHashSet();
        if (names.Count == 0) names = ConvShapes.All.Keys.ToList();
        Console.WriteLine($"{"shape",-8} {"pass",-10} {"us",10} {"GFLOP/s",8} {(naive ? "naive us  speed-up" : "")}");
        foreach (var name in names)
        {
            var g = ConvShapes.All[name];
            var gen = new Generator(1);
            var x = Tensor.RandN(gen, [g.N, g.C, g.H, g.W]);
            var w = Tensor.RandN(gen, [g.K, g.C, g.R, g.S]);
            var b = Tensor.RandN(gen, [g.K]);
            var y = Tensor.Empty([g.N, g.K, g.OutH, g.OutW]);
            var dy = Tensor.RandN(gen, [g.N, g.K, g.OutH, g.OutW]);
            var dx = Tensor.Empty([g.N, g.C, g.H, g.W]);
            var dw = Tensor.Empty([g.K, g.C, g.R, g.S]);
            var be = CpuBackend.Instance;
            Row(name, "forward", g, () => be.Conv2d(x, w, b, y, g), naive ? () => NaiveConv.Conv2d(x.Span, w.Span, b.Span, y.Span, g) : null);
            Row(name, "gradInput", g, () => be.Conv2dGradInput(dy, w, dx, g), naive ? () => NaiveConv.Conv2dGradInput(dy.Span, w.Span, dx.Span, g) : null);
            Row(name, "gradWeight", g, () => be.Conv2dGradWeight(x, dy, dw, g), naive ? () => NaiveConv.Conv2dGradWeight(x.Span, dy.Span, dw.Span, g) : null);
            Row(name, "gradBias", g, () => be.ChannelSum(dy, b, g.N, g.K, g.OutH * g.OutW), null, rate: false);
            if (s_passes.Contains("poolGrad")) PoolGrad(name, g, x, w, b, gen);
        }
    }

    /// <summary>Conv → ReLU → 2x2 pool backward (dx, dw, db): the dense products against the sparse kernels, best rounds interleaved.</summary>
    private static void PoolGrad(string name, in ConvGeometry g, Tensor x, Tensor w, Tensor b, Generator gen)
    {
        var be = CpuBackend.Instance;
        var pool = new PoolGeometry(g.N, g.K, g.OutH, g.OutW, 2, 2, 2, 2, 0, 0);
        if (!be.FusesConv2dReluMaxPool2dGradInput(g, pool)) { Console.WriteLine($"{name,-8} poolGrad: no sparse kernel for this shape"); return; }
        var z = Tensor.Empty([g.N, g.K, g.OutH, g.OutW]);
        var (y, idx, gy) = (Tensor.Empty([g.N, g.K, pool.OutH, pool.OutW]), Tensor.Empty([g.N, g.K, pool.OutH, pool.OutW]), Tensor.RandN(gen, [g.N, g.K, pool.OutH, pool.OutW]));
        be.Conv2d(x, w, b, z, g);
        be.ReluMaxPool2d(z, y, idx, pool);
        var (dx, dw, db) = (Tensor.Empty([g.N, g.C, g.H, g.W]), Tensor.Empty([g.K, g.C, g.R, g.S]), Tensor.Empty([g.K]));
        var g1 = g;
        Action dense = () =>
        {
            be.ReluMaxPool2dGrad(gy, y, idx, z, pool);
            be.Conv2dGradInput(z, w, dx, g1);
            be.Conv2dGradWeight(x, z, dw, g1);
            be.ChannelSum(z, db, g1.N, g1.K, g1.OutH * g1.OutW);
        };
        Action sparse = () =>
        {
            be.Conv2dReluMaxPool2dGradWeight(x, gy, y, idx, dw, db, g1, pool);
            be.Conv2dReluMaxPool2dGradInput(gy, y, idx, w, dx, g1, pool);
        };
        double d = double.MaxValue, s = double.MaxValue;
        for (int round = 0; round < 5; round++) (d, s) = (Math.Min(d, BestMicroseconds(dense)), Math.Min(s, BestMicroseconds(sparse)));
        double sw = BestMicroseconds(() => be.Conv2dReluMaxPool2dGradWeight(x, gy, y, idx, dw, db, g1, pool));
        double sx = BestMicroseconds(() => be.Conv2dReluMaxPool2dGradInput(gy, y, idx, w, dx, g1, pool));
        Console.WriteLine($"{name,-8} poolGrad   dense {d,10:F2} us  sparse {s,10:F2} us  {d / s,6:F2}x  (sparse dW+db {sw:F2} us, dx {sx:F2} us)");
    }

    private static HashSet<string> s_passes = [];

    /// <summary>The forward pass's steps timed alone, the whole batch as one chunk: im2col, GEMM, scatter with bias.</summary>
    private static unsafe void Profile(string name)
    {
        var g = ConvShapes.All[name];
        int ohw = g.OutH * g.OutW, crs = g.C * g.R * g.S, len = g.N * ohw;
        var x = new float[g.N * g.C * g.H * g.W];
        var w = new float[g.K * crs];
        var bias = new float[g.K];
        var cols = new float[crs * len];
        var rows = new float[g.K * len];
        var y = new float[g.N * g.K * ohw];
        new Random(1).NextBytes(new byte[1]);
        fixed (float* px = x, pw = w, pb = bias, pc = cols, pr = rows, py = y)
        {
            float* cx = px, cw = pw, cb = pb, cc = pc, cr = pr, cy = py;
            double im2col = BestMicroseconds(() => Im2Col.Fill(cx, g.N, g, cc, len));
            double gemm = BestMicroseconds(() => Gemm.SgemmUnchecked(false, false, g.K, len, crs, 1f, cw, crs, cc, len, 0f, cr, len));
            double scatter = BestMicroseconds(() => Im2Col.Scatter(cr, g.K, ohw, g.N, cb, cy, (long)g.K * ohw));
            Console.WriteLine($"{name,-8} im2col {im2col,8:F2} us  gemm {gemm,8:F2} us ({ConvShapes.Flops(g) / gemm / 1e3:F1} GFLOP/s)  scatter {scatter,8:F2} us");
        }
    }

    /// <summary>One pass's best time; <paramref name="rate"/> off for the bias gradient, whose work is no convolution's.</summary>
    private static void Row(string name, string pass, in ConvGeometry g, Action fast, Action? naive, bool rate = true)
    {
        if (s_passes.Count > 0 && !s_passes.Contains(pass)) return;
        double us = BestMicroseconds(fast);
        string line = $"{name,-8} {pass,-10} {us,10:F2} {(rate ? (ConvShapes.Flops(g) / us / 1e3).ToString("F2") : "-"),8}";
        if (naive is not null)
        {
            double nus = BestMicroseconds(naive);
            line += $" {nus,10:F1} {nus / us,8:F1}x";
        }
        Console.WriteLine(line);
    }

    /// <summary>
    /// Best mean over 200 rounds of about 1 ms, after 300 ms of warm-up (past tiered compilation's tier 0). The
    /// machine is shared and time-sliced: short rounds are the ones that can fall between other processes' slices,
    /// so the minimum is the signal.
    /// </summary>
    private static double BestMicroseconds(Action body)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalMilliseconds < 300) body();
        sw.Restart();
        int reps = 0;
        while (sw.Elapsed.TotalMilliseconds < 1) { body(); reps++; }
        reps = Math.Max(1, reps);
        double best = double.MaxValue;
        for (int round = 0; round < 200; round++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) body();
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds / reps);
        }
        return best;
    }
}
