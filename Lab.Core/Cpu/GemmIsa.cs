using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>Instruction sets the GEMM micro-kernels are written for, slowest first.</summary>
internal enum GemmIsa { Scalar, Avx2, Avx512 }

/// <summary>
/// One micro-kernel together with the cache blocking that suits it. MR x NR is the register tile;
/// KC x NR (a packed B micro-panel) is sized to stay in L1, MC x KC (the packed A block) in L2,
/// KC x NC (the packed B block) in L3.
/// </summary>
internal readonly unsafe struct GemmKernel
{
    /// <summary>c[MR x NR] = alpha * (packed a panel) * (packed b panel) + beta * c; beta == 0 never reads c.</summary>
    public readonly delegate*<int, float*, float*, float*, nint, float, float, void> Run;
    public readonly int MR, NR, KC, MC, NC;
    public readonly GemmIsa Isa;

    public GemmKernel(GemmIsa isa, delegate*<int, float*, float*, float*, nint, float, float, void> run,
        int mr, int nr, int kc, int mc, int nc)
    {
        Isa = isa; Run = run; MR = mr; NR = nr; KC = kc; MC = mc; NC = nc;
    }

    public static GemmIsa Best =>
        Avx512F.IsSupported ? GemmIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2
        : GemmIsa.Scalar;

    /// <summary>The kernel for <paramref name="isa"/>, or the best supported one below it.</summary>
    public static GemmKernel For(GemmIsa isa)
    {
        if (isa > Best) isa = Best;
        return isa switch
        {
            GemmIsa.Avx512 => new(isa, &GemmKernelAvx512.Run, GemmKernelAvx512.MR, GemmKernelAvx512.NR,
                kc: 256, mc: 20 * GemmKernelAvx512.MR, nc: 4096),
            GemmIsa.Avx2 => new(isa, &GemmKernelAvx2.Run, GemmKernelAvx2.MR, GemmKernelAvx2.NR,
                kc: 256, mc: 24 * GemmKernelAvx2.MR, nc: 4096),
            _ => new(isa, &GemmKernelScalar.Run, GemmKernelScalar.MR, GemmKernelScalar.NR,
                kc: 256, mc: 64, nc: 4096),
        };
    }
}
