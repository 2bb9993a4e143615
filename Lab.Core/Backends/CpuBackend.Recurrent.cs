namespace Lab.Core.Backends;

/// <summary>
/// The fused gate kernels of the recurrent layers: one pass over a step's gates instead of a dozen small
/// element-wise ops (each a pass over memory and, under recording, a node). Rows are samples; within a row the
/// gates lie side by side in Keras's order, H units each.
/// </summary>
public sealed partial class CpuBackend
{
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>Keras's LSTM gates i, f, c̃, o at one unit: the pre-activations sit <paramref name="hidden"/> apart from <paramref name="at"/>.
    /// The forward kernel and its gradient both compute them (the gradient recomputes rather than stores them).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static (float I, float F, float G, float O) LstmGates(ReadOnlySpan<float> x, ReadOnlySpan<float> r, int at, int hidden) =>
        (Sigmoid(x[at] + r[at]), Sigmoid(x[at + hidden] + r[at + hidden]),
         MathF.Tanh(x[at + 2 * hidden] + r[at + 2 * hidden]), Sigmoid(x[at + 3 * hidden] + r[at + 3 * hidden]));

    public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden)
    {
        ReadOnlySpan<float> x = xProj.Span, r = hProj.Span, cp = cPrev.Span;
        Span<float> s = state.Span;
        int plane = batch * hidden;
        for (int b = 0; b < batch; b++)
        {
            int row = b * 4 * hidden, o = b * hidden;
            for (int j = 0; j < hidden; j++)
            {
                var (i, f, g, og) = LstmGates(x, r, row + j, hidden);
                float c = f * cp[o + j] + i * g;
                s[plane + o + j] = c;
                s[o + j] = og * MathF.Tanh(c);
            }
        }
    }

    public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
    {
        ReadOnlySpan<float> x = xProj.Span, r = hProj.Span, cp = cPrev.Span, s = state.Span, ds = dState.Span;
        Span<float> da = dGates.Span, dcp = dCPrev.Span;
        int plane = batch * hidden;
        for (int b = 0; b < batch; b++)
        {
            int row = b * 4 * hidden, o = b * hidden;
            for (int j = 0; j < hidden; j++)
            {
                var (i, f, g, og) = LstmGates(x, r, row + j, hidden);
                float tc = MathF.Tanh(s[plane + o + j]);
                float dh = ds[o + j];
                float dc = ds[plane + o + j] + dh * og * (1 - tc * tc);
                da[row + j] = dc * g * i * (1 - i);
                da[row + hidden + j] = dc * cp[o + j] * f * (1 - f);
                da[row + 2 * hidden + j] = dc * i * (1 - g * g);
                da[row + 3 * hidden + j] = dh * tc * og * (1 - og);
                dcp[o + j] = dc * f;
            }
        }
    }

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
