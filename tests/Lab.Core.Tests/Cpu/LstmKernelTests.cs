using Lab.Core.Cpu;

namespace Lab.Core.Tests.Cpu;

/// <summary>
/// The vectorised LSTM gate kernels against Keras's equations and their derivatives written out in double precision,
/// on every unit count from 1 to 40 (every tail of an 8- or 16-lane vector, whole vectors, several rows), batch 1 and
/// odd batches, and pre-activations large enough to saturate every gate.
/// </summary>
public class LstmKernelTests : GateKernelTests
{
    protected override void Check(int batch, int hidden, float scale, ulong seed)
    {
        var g = new Generator(seed);
        float[] Draw(int n, float s) => Enumerable.Range(0, n).Select(_ => s * (float)g.NextNormal()).ToArray();
        int plane = batch * hidden;
        // The pre-activations at the scale asked for; states and upstream gradients at unit scale (saturated gates give
        // σ(1 - σ) in float with an absolute error of an ulp of 1, which a large upstream gradient would magnify).
        var (x, r, cPrev, dState) = (Draw(4 * plane, scale), Draw(4 * plane, scale), Draw(plane, 1), Draw(2 * plane, 1));
        // A guard element after every output: the kernels must not write past their rows.
        var state = new float[2 * plane + 1];
        var dGates = new float[4 * plane + 1];
        var dCPrev = new float[plane + 1];
        state[^1] = dGates[^1] = dCPrev[^1] = float.NaN;

        LstmKernels.Forward(x, r, cPrev, state.AsSpan(0, 2 * plane), batch, hidden);
        LstmKernels.Backward(x, r, cPrev, state.AsSpan(0, 2 * plane), dState, dGates.AsSpan(0, 4 * plane), dCPrev.AsSpan(0, plane), batch, hidden);

        var (eState, eGates, eCPrev) = Reference(x, r, cPrev, dState, batch, hidden);
        string at = $"batch {batch}, hidden {hidden}, scale {scale}";
        Numeric.AssertClose(eState, state[..^1], 2e-6, $"state, {at}");
        Numeric.AssertClose(eGates, dGates[..^1], 2e-5, $"dGates, {at}");
        Numeric.AssertClose(eCPrev, dCPrev[..^1], 2e-5, $"dcPrev, {at}");
        Assert.True(float.IsNaN(state[^1]) && float.IsNaN(dGates[^1]) && float.IsNaN(dCPrev[^1]), $"{at}: a kernel wrote past its output");
    }

    /// <summary>
    /// Keras's step, c = σ(a_f) c' + σ(a_i) tanh(a_c), h = σ(a_o) tanh(c), and the chain rule through it by hand: the
    /// state [2, B, H] (h, c), the gradient of the pre-activations [B, 4H] and of c' [B, H] for an upstream (dh, dc).
    /// </summary>
    private static (double[] State, double[] DGates, double[] DCPrev) Reference(float[] x, float[] r, float[] cPrev, float[] dState, int batch, int hidden)
    {
        int plane = batch * hidden;
        var state = new double[2 * plane];
        var dGates = new double[4 * plane];
        var dCPrev = new double[plane];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < hidden; j++)
            {
                int p = b * hidden + j, row = b * 4 * hidden + j;
                double A(int gate) => (double)x[row + gate * hidden] + r[row + gate * hidden];
                double i = Sig(A(0)), f = Sig(A(1)), cand = Math.Tanh(A(2)), o = Sig(A(3));
                double c = f * cPrev[p] + i * cand, tc = Math.Tanh(c);
                state[p] = o * tc;
                state[plane + p] = c;
                double dh = dState[p], dc = dState[plane + p] + dh * o * (1 - tc * tc);
                dGates[row] = dc * cand * i * (1 - i);
                dGates[row + hidden] = dc * cPrev[p] * f * (1 - f);
                dGates[row + 2 * hidden] = dc * i * (1 - cand * cand);
                dGates[row + 3 * hidden] = dh * tc * o * (1 - o);
                dCPrev[p] = dc * f;
            }
        return (state, dGates, dCPrev);
    }
}
