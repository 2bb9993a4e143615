using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

/// <summary>Which recurrence <see cref="RecurrentReference.Run"/> writes out.</summary>
public enum Cell { SimpleRnn, Lstm, Gru, GruResetBefore }

/// <summary>Options of a reference run, as the layers take them.</summary>
public sealed record RunOptions(bool ReturnSequences = false, bool GoBackwards = false, double[]? Mask = null,
    bool ZeroOutputForMask = false, bool InputOrder = false, double[]? H0 = null, double[]? C0 = null);

/// <summary>
/// Keras's recurrent equations written out in double precision, one sample, one unit at a time, straight from the
/// documentation (gate order i, f, c, o for the LSTM; z, r, h for the GRU), independent of the layers' code.
/// </summary>
public static class RecurrentReference
{
    private static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>
    /// x [B, T, D]; kernel [D, G·H], recurrent [H, G·H]; bias [G·H] ([2, 3H] for the GRU with reset after: input row,
    /// recurrent row) or null. Returns the output ([B, T, H] or [B, H]), the final h and (LSTM) c, each [B, H].
    /// </summary>
    public static (R Output, R H, R? C) Run(Cell cell, R x, R kernel, R recurrent, R? bias, int units, RunOptions o)
    {
        int batch = x.Shape[0], steps = x.Shape[1], d = x.Shape[2], hN = units;
        int gates = cell switch { Cell.Lstm => 4, Cell.SimpleRnn => 1, _ => 3 };
        var output = new double[o.ReturnSequences ? batch * steps * hN : batch * hN];
        var hOut = new double[batch * hN];
        var cOut = new double[batch * hN];
        double K(int i, int g, int j) => kernel.Data[i * gates * hN + g * hN + j];
        double U(int i, int g, int j) => recurrent.Data[i * gates * hN + g * hN + j];
        double B(int row, int g, int j) => bias is null ? 0 : bias.Rank() == 2 ? bias.Data[row * gates * hN + g * hN + j] : row == 0 ? bias.Data[g * hN + j] : 0;

        for (int b = 0; b < batch; b++)
        {
            var h = new double[hN];
            var c = new double[hN];
            if (o.H0 is not null) Array.Copy(o.H0, b * hN, h, 0, hN);
            if (o.C0 is not null) Array.Copy(o.C0, b * hN, c, 0, hN);
            var last = new double[hN];
            for (int s = 0; s < steps; s++)
            {
                int t = o.GoBackwards ? steps - 1 - s : s;
                double XW(int g, int j)
                {
                    double v = B(0, g, j);
                    for (int i = 0; i < d; i++) v += x.Data[(b * steps + t) * d + i] * K(i, g, j);
                    return v;
                }
                double HU(double[] hv, int g, int j)
                {
                    double v = 0;
                    for (int i = 0; i < hN; i++) v += hv[i] * U(i, g, j);
                    return v;
                }
                var hNew = new double[hN];
                var cNew = new double[hN];
                for (int j = 0; j < hN; j++)
                {
                    switch (cell)
                    {
                        case Cell.SimpleRnn:
                            hNew[j] = Math.Tanh(XW(0, j) + HU(h, 0, j));
                            break;
                        case Cell.Lstm:
                            double i = Sig(XW(0, j) + HU(h, 0, j)), f = Sig(XW(1, j) + HU(h, 1, j));
                            double cc = Math.Tanh(XW(2, j) + HU(h, 2, j)), og = Sig(XW(3, j) + HU(h, 3, j));
                            cNew[j] = f * c[j] + i * cc;
                            hNew[j] = og * Math.Tanh(cNew[j]);
                            break;
                        case Cell.Gru:
                            double z = Sig(XW(0, j) + HU(h, 0, j) + B(1, 0, j)), r = Sig(XW(1, j) + HU(h, 1, j) + B(1, 1, j));
                            double hh = Math.Tanh(XW(2, j) + r * (HU(h, 2, j) + B(1, 2, j)));
                            hNew[j] = z * h[j] + (1 - z) * hh;
                            break;
                        case Cell.GruResetBefore:
                            double z2 = Sig(XW(0, j) + HU(h, 0, j)), r2 = Sig(XW(1, j) + HU(h, 1, j));
                            var rh = new double[hN];
                            for (int k = 0; k < hN; k++) rh[k] = Sig(XW(1, k) + HU(h, 1, k)) * h[k];
                            double hh2 = Math.Tanh(XW(2, j) + HU(rh, 2, j));
                            hNew[j] = z2 * h[j] + (1 - z2) * hh2;
                            _ = r2;
                            break;
                    }
                }
                bool keep = o.Mask is null || o.Mask[b * steps + t] != 0;
                var stepOut = new double[hN];
                if (keep)
                {
                    h = hNew;
                    if (cell == Cell.Lstm) c = cNew;
                    stepOut = hNew;
                }
                else if (!o.ZeroOutputForMask) stepOut = (double[])last.Clone();
                last = stepOut;
                if (o.ReturnSequences)
                {
                    int at = o.InputOrder ? t : s;
                    Array.Copy(stepOut, 0, output, (b * steps + at) * hN, hN);
                }
            }
            if (!o.ReturnSequences) Array.Copy(last, 0, output, b * hN, hN);
            Array.Copy(h, 0, hOut, b * hN, hN);
            Array.Copy(c, 0, cOut, b * hN, hN);
        }
        var shape = o.ReturnSequences ? new[] { batch, steps, hN } : new[] { batch, hN };
        return (new R(output, shape), new R(hOut, [batch, hN]), cell == Cell.Lstm ? new R(cOut, [batch, hN]) : null);
    }

    private static int Rank(this R r) => r.Shape.Length;
}
