// Fused gate kernels of the recurrent layers (Keras's gate order), one thread per (sample, unit).
// Rows are samples; within a row the gates lie side by side, H units each. See IBackend's recurrent block.
#include "math.cuh"

// LSTM (gates i, f, c, o): state = [h; c], two planes of B x H.
KERNEL lstm_cell(const float* x, const float* r, const float* cp, float* s, int batch, int hidden)
{
    int plane = batch * hidden;
    FOR_EACH(k, plane)
    {
        int b = k / hidden, j = k - b * hidden, row = b * 4 * hidden + j;
        float i = lab_sigmoid(x[row] + r[row]);
        float f = lab_sigmoid(x[row + hidden] + r[row + hidden]);
        float g = lab_tanh(x[row + 2 * hidden] + r[row + 2 * hidden]);
        float o = lab_sigmoid(x[row + 3 * hidden] + r[row + 3 * hidden]);
        float c = f * cp[k] + i * g;
        s[plane + k] = c;
        s[k] = o * lab_tanh(c);
    }
}

KERNEL lstm_cell_grad(const float* x, const float* r, const float* cp, const float* s, const float* ds,
                      float* da, float* dcp, int batch, int hidden)
{
    int plane = batch * hidden;
    FOR_EACH(k, plane)
    {
        int b = k / hidden, j = k - b * hidden, row = b * 4 * hidden + j;
        float i = lab_sigmoid(x[row] + r[row]);
        float f = lab_sigmoid(x[row + hidden] + r[row + hidden]);
        float g = lab_tanh(x[row + 2 * hidden] + r[row + 2 * hidden]);
        float o = lab_sigmoid(x[row + 3 * hidden] + r[row + 3 * hidden]);
        float tc = lab_tanh(s[plane + k]);
        float dh = ds[k];
        float dc = ds[plane + k] + dh * o * (1.f - tc * tc);
        da[row] = dc * g * i * (1.f - i);
        da[row + hidden] = dc * cp[k] * f * (1.f - f);
        da[row + 2 * hidden] = dc * i * (1.f - g * g);
        da[row + 3 * hidden] = dh * tc * o * (1.f - o);
        dcp[k] = dc * f;
    }
}

// GRU with reset_after (gates z, r, h): h = z hPrev + (1 - z) tanh(x_h + r h_h).
KERNEL gru_cell(const float* x, const float* r, const float* hp, float* h, int batch, int hidden)
{
    FOR_EACH(k, batch * hidden)
    {
        int b = k / hidden, j = k - b * hidden, row = b * 3 * hidden + j;
        float z = lab_sigmoid(x[row] + r[row]);
        float rg = lab_sigmoid(x[row + hidden] + r[row + hidden]);
        float n = lab_tanh(x[row + 2 * hidden] + rg * r[row + 2 * hidden]);
        h[k] = z * hp[k] + (1.f - z) * n;
    }
}

KERNEL gru_cell_grad(const float* x, const float* r, const float* hp, const float* dh,
                     float* dx, float* dr, float* dhp, int batch, int hidden)
{
    FOR_EACH(k, batch * hidden)
    {
        int b = k / hidden, j = k - b * hidden, row = b * 3 * hidden + j;
        float z = lab_sigmoid(x[row] + r[row]);
        float rg = lab_sigmoid(x[row + hidden] + r[row + hidden]);
        float rh = r[row + 2 * hidden];
        float n = lab_tanh(x[row + 2 * hidden] + rg * rh);
        float g = dh[k];
        float daz = g * (hp[k] - n) * z * (1.f - z);
        float dan = g * (1.f - z) * (1.f - n * n);
        float dar = dan * rh * rg * (1.f - rg);
        dx[row] = daz; dr[row] = daz;
        dx[row + hidden] = dar; dr[row + hidden] = dar;
        dx[row + 2 * hidden] = dan;
        dr[row + 2 * hidden] = dan * rg;
        dhp[k] = g * z;
    }
}
