using System.Runtime.InteropServices;
using Lab.Core.Backends;

namespace Lab.Core.Tracing;

/// <summary>
/// Consecutive element-wise kernel calls over buffers of one length, run block by block: each block of
/// <see cref="BlockSize"/> floats goes through every call of the chain while it is in L1, so the chain streams
/// through memory once instead of once per call. Every element goes through the same kernel code as in the eager
/// step (the calls are the backend's own, on sub-views), so results are bit for bit the same: the kernels are
/// element-wise, and no block is shorter than <see cref="BlockSize"/> (the last one takes the remainder), so no block
/// falls back to a kernel's short-length scalar path where the whole call did not. Long chains split their blocks over
/// the worker pool, as the eager kernels split long tensors.
/// </summary>
internal sealed unsafe class FusedChain : TraceEntry
{
    /// <summary>Floats per block: 16 KiB, a multiple of every vector width, and a few operands of it fit L1.</summary>
    public const int BlockSize = 4096;

    private readonly KernelEntry[] _calls;
    private readonly int _length, _blocks;

    public FusedChain(KernelEntry[] calls, int length)
    {
        _calls = calls;
        _length = length;
        _blocks = Math.Max(1, length / BlockSize);
    }

    public IReadOnlyList<KernelEntry> Calls => _calls;
    public int Length => _length;

    public override void Run()
    {
        int threads = _length >= CpuBackend.MinElementsForThreads ? Cpu.Gemm.MaxThreads : 1;
        if (threads <= 1 || _blocks == 1)
        {
            for (int b = 0; b < _blocks; b++) RunBlock(b);
            return;
        }
        // The pool's state is a pointer: a handle for the run's duration (a handle-table entry, no managed allocation).
        var self = GCHandle.Alloc(this);
        try { Cpu.WorkerPool.Run(_blocks, threads, &BlockPart, (void*)GCHandle.ToIntPtr(self)); }
        finally { self.Free(); }
    }

    private static void BlockPart(void* state, int part, int parts) => ((FusedChain)GCHandle.FromIntPtr((IntPtr)state).Target!).RunBlock(part);

    private void RunBlock(int block)
    {
        int start = block * BlockSize;
        int length = block == _blocks - 1 ? _length - start : BlockSize;
        Span<int> shape = stackalloc int[1];
        shape[0] = length;
        foreach (var call in _calls) RunPart(call, start, length, shape);
    }

    /// <summary>The call on elements [start, start + length) of each operand; a one-element operand of Binary is broadcast whole.</summary>
    private static void RunPart(KernelEntry e, int start, int length, ReadOnlySpan<int> shape)
    {
        var b = e.Backend;
        var v = e.Views;
        switch (e.Kind)
        {
            case KernelKind.Unary: b.Unary((UnaryOp)e.I[0], Part(v[0], start, length, shape), Part(v[1], start, length, shape), e.F[0], e.F[1]); break;
            case KernelKind.UnaryGrad:
                b.UnaryGrad((UnaryOp)e.I[0], Part(v[0], start, length, shape), Part(v[1], start, length, shape), Part(v[2], start, length, shape),
                    Part(v[3], start, length, shape), e.F[0], e.F[1]);
                break;
            case KernelKind.Binary: b.Binary((BinaryOp)e.I[0], Part(v[0], start, length, shape), Part(v[1], start, length, shape), Part(v[2], start, length, shape)); break;
            case KernelKind.Where:
                b.Where(Part(v[0], start, length, shape), Part(v[1], start, length, shape), Part(v[2], start, length, shape), Part(v[3], start, length, shape));
                break;
            case KernelKind.Axpy: b.Axpy(e.F[0], Part(v[0], start, length, shape), Part(v[1], start, length, shape)); break;
            case KernelKind.Fill: b.Fill(Part(v[0], start, length, shape), e.F[0]); break;
            case KernelKind.Copy: b.Copy(Part(v[0], start, length, shape), Part(v[1], start, length, shape)); break;
            default: throw new InvalidOperationException($"FusedChain: {e.Kind} is not element-wise.");
        }
    }

    private static StorageView Part(in Operand o, int start, int length, ReadOnlySpan<int> shape) =>
        o.Numel == 1 && length > 1 ? o.View : new StorageView(o.Storage!, o.Offset + start, length, shape);

    /// <summary>The length over which <paramref name="e"/> is element-wise with the same code on any block, or -1.</summary>
    public static int ElementwiseLength(KernelEntry e)
    {
        var v = e.Views;
        switch (e.Kind)
        {
            case KernelKind.Unary: return v[0].Numel == v[1].Numel ? v[1].Numel : -1;
            case KernelKind.UnaryGrad: return v[0].Numel == v[3].Numel && v[1].Numel == v[3].Numel && v[2].Numel == v[3].Numel ? v[3].Numel : -1;
            case KernelKind.Binary:
            {
                // The backend's own non-broadcasting paths: equal lengths, or one operand a single element.
                int a = v[0].Numel, b = v[1].Numel, y = v[2].Numel;
                return (a == y && b == y) || (a == y && b == 1) || (a == 1 && b == y) ? y : -1;
            }
            case KernelKind.Where:
                // Where walks broadcast strides: only identical shapes make it a plain element-wise loop.
                return v[0].Shape.AsSpan().SequenceEqual(v[3].Shape) && v[1].Shape.AsSpan().SequenceEqual(v[3].Shape) && v[2].Shape.AsSpan().SequenceEqual(v[3].Shape) ? v[3].Numel : -1;
            case KernelKind.Axpy: case KernelKind.Copy: return v[0].Numel == v[1].Numel ? v[1].Numel : -1;
            case KernelKind.Fill: return v[0].Numel;
            default: return -1;
        }
    }

    public override string Describe() =>
        $"fused x{_calls.Length} over {_length} floats ({_blocks} block{(_blocks == 1 ? "" : "s")}): " + string.Join("; ", _calls.Select(c => c.Describe()));

    public override bool SameWork(TraceEntry other, out string difference)
    {
        difference = "planned entries are not compared";
        return false;
    }
}
