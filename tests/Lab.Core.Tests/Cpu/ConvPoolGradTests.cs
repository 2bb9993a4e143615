using Lab.Core.Backends;
using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The gradients of conv → ReLU → 2x2 max pool taken straight from the pooled gradient (<see cref="ConvPoolGrad"/>)
/// against the dense definition written out here: the pooled gradient scattered to each window's argmax where the
/// pooled output is positive (or NaN), then <see cref="NaiveConv"/>'s input and weight gradients and the per-channel
/// sum. Geometries cover batch 1, one channel, 3, 5, 17 and 33 channels (a partial block of 16 and more than two),
/// one output channel, odd planes (a last row and column no window covers), stride 2, padding, uneven padding, a
/// 5x5 kernel (taps in three blocks of nine), 2x3 and 1x1 kernels, and MnistCnn's second block on both threads.
/// Results start as NaN, so an element the kernel skips fails; one and two threads give the same bits.
/// </summary>
public class ConvPoolGradTests
{
    public static readonly TheoryData<ConvGeometry> Geometries =
    [
        new(1, 1, 6, 6, 1, 3, 3, 1, 1, 0, 0),
        new(2, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1),
        new(3, 5, 11, 13, 17, 3, 3, 2, 2, 1, 1),
        new(2, 17, 10, 9, 3, 5, 5, 1, 1, 2, 2),
        new(2, 33, 7, 8, 4, 2, 3, 1, 2, 0, 1),
        new(2, 4, 8, 9, 6, 1, 1, 1, 1, 0, 0),
        new(2, 3, 9, 10, 4, 3, 2, 1, 1, 1, 0, ExtraPadH: 1, ExtraPadW: -1),
        new(1, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1),
        new(32, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0),
    ];

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Gradients_MatchTheDenseDefinition(ConvGeometry g)
    {
        Assert.True(ConvPoolGrad.Applies(g, PoolOf(g)), $"{g} should take the sparse path");
        var rng = new Random(g.N * 31 + g.C);
        var (x, w, bias) = (ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W), ConvKernelTests.Values(rng, g.K * g.C * g.R * g.S), Biases(g.K));
        var dy = ConvKernelTests.Values(rng, g.N * g.K * (g.OutH / 2) * (g.OutW / 2));
        var (dx, dw, db) = Sparse(g, x, w, bias, dy, threads: 2);
        var (ex, ew, eb) = Dense(g, x, w, bias, dy);
        Close(ex, dx, "dx", g);
        Close(ew, dw, "dw", g);
        Close(eb, db, "db", g);
        if (g.K >= 3) Assert.Contains(eb, v => v == 0f); // a channel whose windows are all at or below zero passes nothing
        Assert.Contains(ew, v => Math.Abs(v) > 0.05f);
        Assert.Contains(ex, v => Math.Abs(v) > 0.05f);

        var (dx1, dw1, db1) = Sparse(g, x, w, bias, dy, threads: 1);
        Assert.Equal(dx, dx1);
        Assert.Equal(dw, dw1);
        Assert.Equal(db, db1);
    }

    /// <summary>A NaN in the upstream gradient where the pooled output is positive reaches the same elements as the dense products' (none where ReLU stops it).</summary>
    [Fact]
    public void NaNInTheUpstreamGradient_ReachesTheSameElements()
    {
        // No padding: the dense reference skips the padding's taps, where NaN times a padding zero would be NaN.
        var g = new ConvGeometry(2, 3, 9, 8, 5, 3, 3, 1, 1, 0, 0);
        var rng = new Random(4);
        var (x, w, bias) = (ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W), ConvKernelTests.Values(rng, g.K * g.C * g.R * g.S), Biases(g.K));
        var dy = ConvKernelTests.Values(rng, g.N * g.K * (g.OutH / 2) * (g.OutW / 2));
        float[] y = Forward(g, x, w, bias).Y.ToArray();
        int positive = Array.FindIndex(y, v => v > 0), stopped = Array.FindIndex(y, v => v <= 0);
        (dy[positive], dy[stopped]) = (float.NaN, float.NaN);
        var (dx, dw, db) = Sparse(g, x, w, bias, dy, threads: 2);
        var (ex, ew, eb) = Dense(g, x, w, bias, dy);
        Assert.Contains(ex, float.IsNaN);
        Assert.Contains(ex, float.IsFinite);
        Close(ex, dx, "dx", g);
        Close(ew, dw, "dw", g);
        Close(eb, db, "db", g);
    }

    /// <summary>
    /// A NaN in the input makes the pooled outputs over it NaN, which pass their gradient (as ReLU's gradient does), so
    /// the weight gradient is NaN too and the anomaly check stops the run; dz, and so db and dx, stay finite. (Fewer of its elements are NaN than in the dense
    /// product, where the zeros of dz times the NaN add NaN to every tap of that channel.)
    /// </summary>
    [Fact]
    public void NaNInTheInput_ReachesTheWeightGradient()
    {
        var g = new ConvGeometry(2, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1);
        var rng = new Random(4);
        var (x, w, bias) = (ConvKernelTests.Values(rng, g.N * g.C * g.H * g.W), ConvKernelTests.Values(rng, g.K * g.C * g.R * g.S), Biases(g.K));
        x[g.H * g.W + 3 * g.W + 4] = float.NaN;
        var dy = ConvKernelTests.Values(rng, g.N * g.K * (g.OutH / 2) * (g.OutW / 2));
        var (dx, dw, db) = Sparse(g, x, w, bias, dy, threads: 2);
        Assert.Contains(dw, float.IsNaN);
        Assert.All(db, v => Assert.True(float.IsFinite(v))); // dz itself is finite: the upstream gradient at the NaN outputs
        Assert.All(dx, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void GroupsDilationAndOtherPools_AreNotTaken()
    {
        var g = new ConvGeometry(2, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1);
        Assert.True(ConvPoolGrad.Applies(g, PoolOf(g)));
        Assert.False(ConvPoolGrad.Applies(g with { Groups = 2 }, PoolOf(g)));
        Assert.False(ConvPoolGrad.Applies(g with { DilationH = 2, DilationW = 2 }, PoolOf(g with { DilationH = 2, DilationW = 2 })));
        Assert.False(ConvPoolGrad.Applies(g, PoolOf(g) with { StrideH = 1, StrideW = 1 }));
        Assert.False(ConvPoolGrad.Applies(g, PoolOf(g) with { KernelH = 3, KernelW = 3 }));
    }

    /// <summary>The backend takes the sparse kernels only where they beat the dense products (see <see cref="ConvPoolGrad.Pays"/>).</summary>
    [Fact]
    public void OnlyLayersWhereItPays_TakeTheSparseKernels()
    {
        var be = CpuBackend.Instance;
        foreach (var (g, pays) in new (ConvGeometry, bool)[]
        {
            (new(32, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0), true),  // MnistCnn's second layer
            (new(32, 64, 5, 5, 64, 3, 3, 1, 1, 0, 0), true),
            (new(16, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1), true),
            (new(2, 24, 9, 9, 4, 3, 3, 1, 1, 0, 0), true),      // 24 of 32 lanes
            (new(2, 32, 9, 9, 4, 5, 5, 1, 1, 0, 0), true),      // 25 of 27 taps
            (new(2, 24, 9, 9, 4, 5, 5, 1, 1, 0, 0), false),     // both: 0.69
            (new(16, 8, 6, 6, 16, 3, 3, 1, 1, 0, 0), false),    // half the lanes
            (new(16, 32, 8, 8, 64, 1, 1, 1, 1, 0, 0), false),   // one tap of nine
            (new(16, 17, 8, 8, 8, 3, 3, 1, 1, 0, 0), false),    // 17 of 32 lanes
            (new(32, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0), false),  // MnistCnn's first layer: its own weight kernel, dense dx
        })
        {
            Assert.True(ConvPoolGrad.Applies(g, PoolOf(g)));
            Assert.Equal(pays, be.FusesConv2dReluMaxPool2dGradInput(g, PoolOf(g)));
            Assert.Equal(pays || g.C == 1, be.FusesConv2dReluMaxPool2dGradWeight(g, PoolOf(g)));
        }
    }

    private static PoolGeometry PoolOf(in ConvGeometry g) => new(g.N, g.K, g.OutH, g.OutW, 2, 2, 2, 2, 0, 0);

    /// <summary>Every third channel's bias so negative that all its windows stop at ReLU.</summary>
    private static float[] Biases(int k) => Enumerable.Range(0, k).Select(i => i % 3 == 2 ? -100f : 0.1f * (i % 3)).ToArray();

    /// <summary>The forward (the backend's convolution, ReLU and pool: y and argmax) and the sparse gradients.</summary>
    private static (float[] Dx, float[] Dw, float[] Db) Sparse(ConvGeometry g, float[] x, float[] w, float[] bias, float[] dy, int threads)
    {
        var pool = PoolOf(g);
        var (y, indices) = Forward(g, x, w, bias);
        var (dx, dw, db) = (ConvKernelTests.NaNs([g.N, g.C, g.H, g.W]), ConvKernelTests.NaNs([g.K, g.C, g.R, g.S]), ConvKernelTests.NaNs([g.K]));
        var dyt = Tensor.FromArray(dy, [g.N, g.K, pool.OutH, pool.OutW]);
        var (savedMacs, wt) = (ConvPoolGrad.MinMacsForThreads, Tensor.FromArray(w, [g.K, g.C, g.R, g.S]));
        ConvPoolGrad.MinMacsForThreads = 1; // every geometry split over the pool when threads > 1
        try
        {
            GemmTests.WithThreads(threads, () =>
            {
                CpuBackend.Instance.Conv2dReluMaxPool2dGradWeight(Tensor.FromArray(x, [g.N, g.C, g.H, g.W]), dyt, y, indices, dw, db, g, pool);
                CpuBackend.Instance.Conv2dReluMaxPool2dGradInput(dyt, y, indices, wt, dx, g, pool);
            });
        }
        finally { ConvPoolGrad.MinMacsForThreads = savedMacs; }
        return (dx.ToArray(), dw.ToArray(), db.ToArray());
    }

    private static (Tensor Y, Tensor Indices) Forward(in ConvGeometry g, float[] x, float[] w, float[] bias)
    {
        var pool = PoolOf(g);
        var z = Tensor.Empty([g.N, g.K, g.OutH, g.OutW]);
        CpuBackend.Instance.Conv2d(Tensor.FromArray(x, [g.N, g.C, g.H, g.W]), Tensor.FromArray(w, [g.K, g.C, g.R, g.S]), Tensor.FromArray(bias, [g.K]), z, g);
        var (y, indices) = (Tensor.Empty([g.N, g.K, pool.OutH, pool.OutW]), Tensor.Empty([g.N, g.K, pool.OutH, pool.OutW]));
        CpuBackend.Instance.ReluMaxPool2d(z, y, indices, pool);
        return (y, indices);
    }

    /// <summary>dz written out from y and the argmax, then the dense products.</summary>
    private static (float[] Dx, float[] Dw, float[] Db) Dense(ConvGeometry g, float[] x, float[] w, float[] bias, float[] dy)
    {
        var (yt, it) = Forward(g, x, w, bias);
        float[] y = yt.ToArray(), indices = it.ToArray();
        int ohw = g.OutH * g.OutW, pooled = (g.OutH / 2) * (g.OutW / 2);
        var dz = new float[g.N * g.K * ohw];
        for (int plane = 0; plane < g.N * g.K; plane++)
            for (int o = 0; o < pooled; o++)
            {
                int at = plane * pooled + o;
                if (!(y[at] <= 0f)) dz[plane * ohw + (int)indices[at]] += dy[at];
            }
        var (dx, dw, db) = (new float[x.Length], new float[w.Length], new float[g.K]);
        NaiveConv.Conv2dGradInput(dz, w, dx, g);
        NaiveConv.Conv2dGradWeight(x, dz, dw, g);
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.K; k++)
                for (int p = 0; p < ohw; p++) db[k] += dz[(n * g.K + k) * ohw + p];
        return (dx, dw, db);
    }

    private static void Close(float[] expected, float[] actual, string what, in ConvGeometry g)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1f + expected.Where(float.IsFinite).Select(Math.Abs).DefaultIfEmpty(0f).Max();
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i])) Assert.True(float.IsNaN(actual[i]), $"{g} {what}[{i}]: {actual[i]}, expected NaN");
            else Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5f * scale, $"{g} {what}[{i}]: {actual[i]}, expected {expected[i]}");
        }
    }
}
