using System.Runtime.InteropServices;
using Lab.Core.Backends;
using Lab.Core.Cpu;
using Lab.Core.Tracing;

namespace Lab.Core.Tests.Tracing;

/// <summary>
/// Independent kernel work run side by side (Lab.Core.Tracing.SideBySide): eagerly on the CPU worker pool, and in a
/// traced step recorded part by part and replayed side by side, bit for bit, with Verify and the kernel counts seeing
/// inside the parts, and a part that breaks the rules named.
/// </summary>
public unsafe class SideBySideTests
{
    /// <summary>What each part works on: part p computes y[p] = exp(a[p] + b[p]) * a[p] over its own row, in several kernels.</summary>
    private sealed class Rows(Tensor a, Tensor b, Tensor y, int parts, int width)
    {
        public readonly Tensor A = a, B = b, Y = y;
        public readonly int Parts = parts, Width = width;
        public readonly int[] RowShape = [width];
        public bool HostActionInPart;

        public StorageView Row(Tensor t, int p) => new(t.Storage, t.Offset + p * Width, RowShape);
    }

    private static void Part(void* state, int p, IBackend be)
    {
        var r = (Rows)GCHandle.FromIntPtr((nint)state).Target!;
        var y = r.Row(r.Y, p);
        be.Binary(BinaryOp.Add, r.Row(r.A, p), r.Row(r.B, p), y);
        be.Unary(UnaryOp.Exp, y, y);
        be.Binary(BinaryOp.Mul, y, r.Row(r.A, p), y);
        if (r.HostActionInPart) Trace.Host("not allowed here", () => { });
    }

    /// <summary>The op under test: a fresh [parts, width] tensor filled by the parts side by side (no autograd: a plain forward).</summary>
    private static Tensor SideBySideOp(Tensor a, Tensor b, bool hostActionInPart = false)
    {
        var y = Tensor.Empty(a.Shape, a.Device);
        var rows = new Rows(a, b, y, a.Shape[0], a.Shape[1]) { HostActionInPart = hostActionInPart };
        var handle = GCHandle.Alloc(rows);
        try { SideBySide.Run(y.Backend, rows.Parts, &Part, (void*)GCHandle.ToIntPtr(handle)); }
        finally { handle.Free(); }
        return y;
    }

    /// <summary>The same kernels one after the other, through the ops (bit for bit what the parts must give), checked against MathF.</summary>
    private static float[] Expected(Tensor a, Tensor b)
    {
        var expected = ((a + b).Exp() * a).ToArray();
        var (av, bv) = (a.ToArray(), b.ToArray());
        for (int i = 0; i < av.Length; i++) Assert.Equal(MathF.Exp(av[i] + bv[i]) * av[i], expected[i], 1e-5f * (1 + MathF.Abs(expected[i])));
        return expected;
    }

    [Theory]
    [InlineData(2, 37)]
    [InlineData(3, 1000)]
    [InlineData(1, 5)]
    public void Eager_parts_compute_what_the_kernels_compute_one_after_the_other(int parts, int width)
    {
        var g = new Generator(1);
        var (a, b) = (Tensor.RandN(g, [parts, width]), Tensor.RandN(g, [parts, width]));
        TraceAssert.BitEqual(Expected(a, b), SideBySideOp(a, b).ToArray(), "side by side");
        int threads = Gemm.MaxThreads;
        try
        {
            Gemm.MaxThreads = 1;
            TraceAssert.BitEqual(Expected(a, b), SideBySideOp(a, b).ToArray(), "one thread");
        }
        finally { Gemm.MaxThreads = threads; }
    }

    [Fact]
    public void A_traced_step_records_each_part_and_replays_them_side_by_side_bit_for_bit()
    {
        using var step = TracedStep.Create("pair", (x, w) => SideBySideOp(x, w) * 2f);
        using var verified = TracedStep.Create("pair verified", (x, w) => SideBySideOp(x, w) * 2f, new TraceOptions { Verify = true });
        var g = new Generator(2);
        for (int call = 1; call <= 5; call++)
        {
            var (a, b) = (Tensor.RandN(g, [2, 301]), Tensor.RandN(g, [2, 301]));
            var expected = SideBySideOp(a, b) * 2f;
            TraceAssert.BitEqual(expected, step.Run(a, b)[0], $"call {call}");
            TraceAssert.BitEqual(expected, verified.Run(a, b)[0], $"verified call {call}");
        }
        // Two parts of three kernels each inside one side-by-side entry, then the product by 2.
        Assert.Equal(2, step.PlannedEntries);
        Assert.Contains("0  side by side, 2 parts: part 0: 3 kernels (Binary, Unary); part 1: 3 kernels (Binary, Unary)", step.Describe());
        Assert.Equal(7, step.RecordedKernelCalls);
        Assert.Equal([KernelKind.Binary, KernelKind.Unary, KernelKind.Binary, KernelKind.Binary, KernelKind.Unary, KernelKind.Binary, KernelKind.Unary], step.RecordedKinds);
    }

    [Fact]
    public void A_part_that_runs_a_host_action_while_recorded_is_named()
    {
        using var step = TracedStep.Create("bad pair", (x, w) => SideBySideOp(x, w, hostActionInPart: true));
        var (a, b) = (Tensor.Ones([2, 4]), Tensor.Ones([2, 4]));
        step.Run(a, b);   // eager warm-up: host actions simply run
        var e = Assert.Throws<InvalidOperationException>(() => step.Run(a, b));
        Assert.Contains("TracedStep 'bad pair': a side-by-side part ran a host action", e.Message);
    }
}
