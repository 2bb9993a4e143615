using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using static Lab.Core.Cpu.GateScratch;

namespace Lab.Core.Cpu;

/// <summary>
/// The GRU step's gate kernels (Keras's reset_after form), vectorised as <see cref="LstmKernels"/> are: the gates are
/// spread gate-major into a per-thread scratch [3, B, H] (z, r, then the candidate n), σ runs once over the z and r
/// planes and tanh once over n, the rest are plain vector loops with scalar tails that round alike.
/// </summary>
internal static class GruKernels
{
    /// <summary>h = z hPrev + (1 - z) n with z = σ(x_z + r_z), r = σ(x_r + r_r), n = tanh(x_h + r r_h).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> r, ReadOnlySpan<float> hPrev, Span<float> h, int batch, int hidden)
    {
        int plane = batch * hidden;
        var act = Scratch(3 * plane);
        Gates(x, r, act, batch, hidden);
        ReadOnlySpan<float> z = act[..plane], n = act.Slice(2 * plane, plane);
        var one = Vector<float>.One;
        int k = 0;
        for (; k <= plane - Vector<float>.Count; k += Vector<float>.Count)
        {
            var zk = Load(z, k);
            (zk * Load(hPrev, k) + (one - zk) * Load(n, k)).StoreUnsafe(ref MemoryMarshal.GetReference(h), (nuint)k);
        }
        for (; k < plane; k++) h[k] = z[k] * hPrev[k] + (1 - z[k]) * n[k];
    }

    /// <summary>
    /// The step's gradient from dh [B, H]: the gradients of the input projection dX [B, 3H], of the recurrent one
    /// dR [B, 3H] (they differ in the candidate's third, which r scales) and of hPrev.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> r, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh,
        Span<float> dX, Span<float> dR, Span<float> dHPrev, int batch, int hidden)
    {
        int plane = batch * hidden, w = Vector<float>.Count;
        var act = Scratch(3 * plane);
        Gates(x, r, act, batch, hidden);
        ReadOnlySpan<float> zP = act[..plane], rP = act.Slice(plane, plane), nP = act.Slice(2 * plane, plane);
        var one = Vector<float>.One;
        for (int b = 0; b < batch; b++)
        {
            int p0 = b * hidden, row = b * 3 * hidden;
            var dx = dX.Slice(row, 3 * hidden);
            var dr = dR.Slice(row, 3 * hidden);
            ReadOnlySpan<float> rh = r.Slice(row + 2 * hidden, hidden);
            ref float dxRef = ref MemoryMarshal.GetReference(dx);
            ref float drRef = ref MemoryMarshal.GetReference(dr);
            int j = 0;
            for (; j <= hidden - w; j += w)
            {
                int p = p0 + j;
                var (z, rg, n, g) = (Load(zP, p), Load(rP, p), Load(nP, p), Load(dh, p));
                var daz = g * (Load(hPrev, p) - n) * z * (one - z);
                var dan = g * (one - z) * (one - n * n);
                var dar = dan * Load(rh, j) * rg * (one - rg);
                daz.StoreUnsafe(ref dxRef, (nuint)j);
                daz.StoreUnsafe(ref drRef, (nuint)j);
                dar.StoreUnsafe(ref dxRef, (nuint)(hidden + j));
                dar.StoreUnsafe(ref drRef, (nuint)(hidden + j));
                dan.StoreUnsafe(ref dxRef, (nuint)(2 * hidden + j));
                (dan * rg).StoreUnsafe(ref drRef, (nuint)(2 * hidden + j));
                (g * z).StoreUnsafe(ref MemoryMarshal.GetReference(dHPrev), (nuint)p);
            }
            for (; j < hidden; j++)
            {
                int p = p0 + j;
                float z = zP[p], rg = rP[p], n = nP[p], g = dh[p];
                float daz = g * (hPrev[p] - n) * z * (1 - z);
                float dan = g * (1 - z) * (1 - n * n);
                float dar = dan * rh[j] * rg * (1 - rg);
                dx[j] = dr[j] = daz;
                dx[hidden + j] = dr[hidden + j] = dar;
                dx[2 * hidden + j] = dan;
                dr[2 * hidden + j] = dan * rg;
                dHPrev[p] = g * z;
            }
        }
    }

    /// <summary>The gates, gate-major: act [3, B, H] = z, r, n of the projections x and r ([B, 3H] each).</summary>
    private static void Gates(ReadOnlySpan<float> x, ReadOnlySpan<float> r, Span<float> act, int batch, int hidden)
    {
        int plane = batch * hidden, w = Vector<float>.Count;
        ref float dst = ref MemoryMarshal.GetReference(act);
        for (int b = 0; b < batch; b++)
            for (int q = 0; q < 2; q++)
            {
                int from = (b * 3 + q) * hidden, to = q * plane + b * hidden;
                int j = 0;
                for (; j <= hidden - w; j += w) (Load(x, from + j) + Load(r, from + j)).StoreUnsafe(ref dst, (nuint)(to + j));
                for (; j < hidden; j++) act[to + j] = x[from + j] + r[from + j];
            }
        var zr = act[..(2 * plane)];
        TensorPrimitives.Sigmoid(zr, zr);
        for (int b = 0; b < batch; b++)
        {
            int from = (b * 3 + 2) * hidden, gate = plane + b * hidden, to = 2 * plane + b * hidden;
            int j = 0;
            for (; j <= hidden - w; j += w)
                (Load(x, from + j) + Load(act, gate + j) * Load(r, from + j)).StoreUnsafe(ref dst, (nuint)(to + j));
            for (; j < hidden; j++) act[to + j] = x[from + j] + act[gate + j] * r[from + j];
        }
        var candidate = act.Slice(2 * plane, plane);
        TensorPrimitives.Tanh(candidate, candidate);
    }
}
