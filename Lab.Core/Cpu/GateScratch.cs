using System.Numerics;
using System.Runtime.InteropServices;

namespace Lab.Core.Cpu;

/// <summary>
/// What the recurrent gate kernels (<see cref="LstmKernels"/>, <see cref="GruKernels"/>) share: one per-thread scratch
/// for the gates spread gate-major, grown on demand (steady-state steps allocate nothing), and an unchecked vector load.
/// </summary>
internal static class GateScratch
{
    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>The calling thread's scratch, at least <paramref name="floats"/> long; its contents are whatever was left.</summary>
    public static Span<float> Scratch(int floats)
    {
        if (t_scratch is null || t_scratch.Length < floats) t_scratch = GC.AllocateUninitializedArray<float>(floats);
        return t_scratch.AsSpan(0, floats);
    }

    /// <summary>A vector of <paramref name="s"/> from <paramref name="at"/>; the callers' loops keep it in bounds.</summary>
    public static Vector<float> Load(ReadOnlySpan<float> s, int at) => Vector.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)at);
}
