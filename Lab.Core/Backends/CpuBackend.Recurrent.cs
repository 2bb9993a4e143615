namespace Lab.Core.Backends;

/// <summary>
/// The fused gate kernels of the recurrent layers: one pass over a step's gates instead of a dozen small
/// element-wise ops (each a pass over memory and, under recording, a node). Rows are samples; within a row the
/// gates lie side by side in Keras's order, H units each.
/// </summary>
public sealed partial class CpuBackend
{
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden)
        => Cpu.LstmKernels.Forward(xProj.Span, hProj.Span, cPrev.Span, state.Span, batch, hidden);

    public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
        => Cpu.LstmKernels.Backward(xProj.Span, hProj.Span, cPrev.Span, state.Span, dState.Span, dGates.Span, dCPrev.Span, batch, hidden);

    public void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden)
    {
        ReadOnlySpan<float> x = xProj.Span, r = hProj.Span, hp = hPrev.Span;
        Span<float> y = h.Span;
        for (int b = 0; b < batch; b++)
        {
            int row = b * 3 * hidden, o = b * hidden;
            for (int j = 0; j < hidden; j++)
            {
                float z = Sigmoid(x[row + j] + r[row + j]);
                float rg = Sigmoid(x[row + hidden + j] + r[row + hidden + j]);
                float n = MathF.Tanh(x[row + 2 * hidden + j] + rg * r[row + 2 * hidden + j]);
                y[o + j] = z * hp[o + j] + (1 - z) * n;
            }
        }
    }

    public void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj, in StorageView dHProj, in StorageView dHPrev, int batch, int hidden)
    {
        ReadOnlySpan<float> x = xProj.Span, r = hProj.Span, hp = hPrev.Span, g = dh.Span;
        Span<float> dx = dXProj.Span, dr = dHProj.Span, dhp = dHPrev.Span;
        for (int b = 0; b < batch; b++)
        {
            int row = b * 3 * hidden, o = b * hidden;
            for (int j = 0; j < hidden; j++)
            {
                float z = Sigmoid(x[row + j] + r[row + j]);
                float rg = Sigmoid(x[row + hidden + j] + r[row + hidden + j]);
                float rh = r[row + 2 * hidden + j];
                float n = MathF.Tanh(x[row + 2 * hidden + j] + rg * rh);
                float gj = g[o + j];
                float daz = gj * (hp[o + j] - n) * z * (1 - z);
                float dan = gj * (1 - z) * (1 - n * n);
                float dar = dan * rh * rg * (1 - rg);
                dx[row + j] = dr[row + j] = daz;
                dx[row + hidden + j] = dr[row + hidden + j] = dar;
                dx[row + 2 * hidden + j] = dan;
                dr[row + 2 * hidden + j] = dan * rg;
                dhp[o + j] = gj * z;
            }
        }
    }
}
