using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The vectorised GRU gate kernels (reset after) against Keras's equations and their derivatives written out in double
/// precision, on every unit count from 1 to 40, batch 1 and odd batches, and saturated gates.
/// </summary>
public class GruKernelTests : GateKernelTests
{
    protected override void Check(int batch, int hidden, float scale, ulong seed)
    {
        var g = new Generator(seed);
        float[] Draw(int n, float s) => Enumerable.Range(0, n).Select(_ => s * (float)g.NextNormal()).ToArray();
        int plane = batch * hidden;
        // Projections at the scale asked for; hPrev and the upstream gradient at unit scale (see LstmKernelTests).
        var (x, r, hPrev, dh) = (Draw(3 * plane, scale), Draw(3 * plane, scale), Draw(plane, 1), Draw(plane, 1));
        var h = new float[plane + 1];
        var dX = new float[3 * plane + 1];
        var dR = new float[3 * plane + 1];
        var dHPrev = new float[plane + 1];
        h[^1] = dX[^1] = dR[^1] = dHPrev[^1] = float.NaN;

        GruKernels.Forward(x, r, hPrev, h.AsSpan(0, plane), batch, hidden);
        GruKernels.Backward(x, r, hPrev, dh, dX.AsSpan(0, 3 * plane), dR.AsSpan(0, 3 * plane), dHPrev.AsSpan(0, plane), batch, hidden);

        var e = Reference(x, r, hPrev, dh, batch, hidden);
        string at = $"batch {batch}, hidden {hidden}, scale {scale}";
        Numeric.AssertClose(e.H, h[..^1], 2e-6, $"h, {at}");
        Numeric.AssertClose(e.DX, dX[..^1], 2e-5, $"dX, {at}");
        Numeric.AssertClose(e.DR, dR[..^1], 2e-5, $"dR, {at}");
        Numeric.AssertClose(e.DHPrev, dHPrev[..^1], 2e-5, $"dhPrev, {at}");
        Assert.True(float.IsNaN(h[^1]) && float.IsNaN(dX[^1]) && float.IsNaN(dR[^1]) && float.IsNaN(dHPrev[^1]), $"{at}: a kernel wrote past its output");
    }

    /// <summary>z = σ(x_z + r_z), r = σ(x_r + r_r), n = tanh(x_h + r r_h), h = z h' + (1 - z) n, and the chain rule by hand.</summary>
    private static (double[] H, double[] DX, double[] DR, double[] DHPrev) Reference(float[] x, float[] r, float[] hPrev, float[] dh, int batch, int hidden)
    {
        int plane = batch * hidden;
        var (h, dX, dR, dHPrev) = (new double[plane], new double[3 * plane], new double[3 * plane], new double[plane]);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < hidden; j++)
            {
                int p = b * hidden + j, row = b * 3 * hidden + j;
                double z = Sig((double)x[row] + r[row]), rg = Sig((double)x[row + hidden] + r[row + hidden]);
                double rh = r[row + 2 * hidden], n = Math.Tanh(x[row + 2 * hidden] + rg * rh);
                h[p] = z * hPrev[p] + (1 - z) * n;
                double g = dh[p];
                double dz = g * (hPrev[p] - n) * z * (1 - z), dn = g * (1 - z) * (1 - n * n), dr = dn * rh * rg * (1 - rg);
                (dX[row], dX[row + hidden], dX[row + 2 * hidden]) = (dz, dr, dn);
                (dR[row], dR[row + hidden], dR[row + 2 * hidden]) = (dz, dr, dn * rg);
                dHPrev[p] = g * z;
            }
        return (h, dX, dR, dHPrev);
    }
}
