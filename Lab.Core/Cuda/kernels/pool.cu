// 2-D max and average pooling over N*C planes (NCHW), their gradients, and the gather that is the gradient
// of max pooling's gradient. The rules match the CPU kernels in Lab.Core/Cpu/Pooling.cs.
#include "common.cuh"

// PoolGeometry (twelve ints, the most one launch argument holds): dilation applies to max pooling only.
struct Pool { int H, W, KH, KW, strideH, strideW, padH, padW, dilH, dilW, outH, outW; };

// Average pooling's divisor for output (p, q): the window clipped to the padded input (ceil mode can reach
// past it), or to the input itself without countIncludePad (0 or 1).
DEVICE int imin(int a, int b) { return a < b ? a : b; }
DEVICE int imax(int a, int b) { return a > b ? a : b; }

DEVICE int avg_divisor(const Pool& g, int countIncludePad, int p, int q)
{
    int h0 = p * g.strideH - g.padH, w0 = q * g.strideW - g.padW;
    int h1 = imin(h0 + g.KH, g.H + g.padH), w1 = imin(w0 + g.KW, g.W + g.padW);
    if (!countIncludePad) { h0 = imax(h0, 0); w0 = imax(w0, 0); h1 = imin(h1, g.H); w1 = imin(w1, g.W); }
    return (h1 - h0) * (w1 - w0);
}

// The first maximum of each window in row-major order (NaN wins), its plane-local position stored as a
// float; -1 (and -inf) for a dilated window with no tap inside the input.
KERNEL max_pool(const float* x, float* y, float* indices, int planes, Pool g)
{
    int ohw = g.outH * g.outW;
    FOR_EACH(t, planes * ohw)
    {
        int plane = t / ohw, p = (t % ohw) / g.outW, q = t % g.outW;
        const float* src = x + (long long)plane * g.H * g.W;
        float best = -inf_f();
        int arg = -1;
        for (int r = 0; r < g.KH; r++)
        {
            int h = p * g.strideH - g.padH + r * g.dilH;
            if ((unsigned)h >= (unsigned)g.H) continue;
            for (int s = 0; s < g.KW; s++)
            {
                int w = q * g.strideW - g.padW + s * g.dilW;
                if ((unsigned)w >= (unsigned)g.W) continue;
                float v = src[h * g.W + w];
                if (v > best || arg < 0 || is_nan(v)) { best = v; arg = h * g.W + w; }
            }
        }
        y[t] = best;
        indices[t] = (float)arg;
    }
}

// dx (zeroed by the host) += dy at each window's argmax; overlapping windows may share one, hence atomics.
KERNEL max_pool_grad(const float* dy, const float* indices, float* dx, int planes, Pool g)
{
    int ohw = g.outH * g.outW;
    FOR_EACH(t, planes * ohw)
    {
        int arg = (int)indices[t];
        if (arg < 0) continue;
        __nvvm_atom_add_gen_f(dx + (long long)(t / ohw) * g.H * g.W + arg, dy[t]);
    }
}

// y = x at each window's argmax (0 where there is none): the adjoint of max_pool_grad.
KERNEL max_pool_gather(const float* x, const float* indices, float* y, int planes, Pool g)
{
    int ohw = g.outH * g.outW;
    FOR_EACH(t, planes * ohw)
    {
        int arg = (int)indices[t];
        y[t] = arg < 0 ? 0.f : x[(long long)(t / ohw) * g.H * g.W + arg];
    }
}

// The window's sum over its divisor (padding counts as zeros, as on the CPU).
KERNEL avg_pool(const float* x, float* y, int planes, int countIncludePad, Pool g)
{
    int ohw = g.outH * g.outW;
    FOR_EACH(t, planes * ohw)
    {
        int plane = t / ohw, p = (t % ohw) / g.outW, q = t % g.outW;
        const float* src = x + (long long)plane * g.H * g.W;
        float acc = 0.f;
        for (int r = 0; r < g.KH; r++)
        {
            int h = p * g.strideH - g.padH + r;
            if ((unsigned)h >= (unsigned)g.H) continue;
            for (int s = 0; s < g.KW; s++)
            {
                int w = q * g.strideW - g.padW + s;
                if ((unsigned)w < (unsigned)g.W) acc += src[h * g.W + w];
            }
        }
        y[t] = acc * (1.f / avg_divisor(g, countIncludePad, p, q));
    }
}

// Each input element gathers the outputs whose windows cover it (deterministic, overwrites dx).
KERNEL avg_pool_grad(const float* dy, float* dx, int planes, int countIncludePad, Pool g)
{
    FOR_EACH(t, planes * g.H * g.W)
    {
        int plane = t / (g.H * g.W), h = (t / g.W) % g.H, w = t % g.W;
        const float* gp = dy + (long long)plane * g.outH * g.outW;
        float acc = 0.f;
        for (int r = 0; r < g.KH; r++)
        {
            int hp = h + g.padH - r;
            if (hp < 0 || hp % g.strideH != 0 || hp / g.strideH >= g.outH) continue;
            for (int s = 0; s < g.KW; s++)
            {
                int wp = w + g.padW - s;
                if (wp < 0 || wp % g.strideW != 0 || wp / g.strideW >= g.outW) continue;
                int p = hp / g.strideH, q = wp / g.strideW;
                acc += gp[p * g.outW + q] * (1.f / avg_divisor(g, countIncludePad, p, q));
            }
        }
        dx[t] = acc;
    }
}
