// Convolution by im2col / col2im around cuBLAS GEMMs, and 2-D pooling. Layouts are NCHW; a column
// buffer holds, per image, a (C*R*S) x (OH*OW) matrix so that W[K, CRS] @ col = y[K, OH*OW] (with groups,
// one GEMM per group over its block of rows). Kernel taps are dilH rows and dilW columns apart.
#include "common.cuh"

struct Geometry { int C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, outH, outW; };

KERNEL im2col(const float* x, float* col, int images, Geometry g)
{
    int ohw = g.outH * g.outW, rs = g.R * g.S, crs = g.C * rs;
    FOR_EACH(t, images * crs * ohw)
    {
        int pos = t % ohw, row = t / ohw;
        int img = row / crs, k = row % crs;
        int c = k / rs, r = (k / g.S) % g.R, s = k % g.S;
        int h = (pos / g.outW) * g.strideH - g.padH + r * g.dilH;
        int w = (pos % g.outW) * g.strideW - g.padW + s * g.dilW;
        col[t] = (unsigned)h < (unsigned)g.H && (unsigned)w < (unsigned)g.W
            ? x[(((long long)img * g.C + c) * g.H + h) * g.W + w] : 0.f;
    }
}

// dx[img, c, h, w] = the sum of the column entries that im2col copied from it (overwrites dx).
KERNEL col2im(const float* col, float* dx, int images, Geometry g)
{
    int ohw = g.outH * g.outW, rs = g.R * g.S, crs = g.C * rs;
    FOR_EACH(t, images * g.C * g.H * g.W)
    {
        int w = t % g.W, h = (t / g.W) % g.H, c = (t / (g.W * g.H)) % g.C, img = t / (g.W * g.H * g.C);
        float acc = 0.f;
        for (int r = 0; r < g.R; r++)
        {
            int hp = h + g.padH - r * g.dilH;
            if (hp < 0 || hp % g.strideH != 0) continue;
            int p = hp / g.strideH;
            if (p >= g.outH) continue;
            for (int s = 0; s < g.S; s++)
            {
                int wp = w + g.padW - s * g.dilW;
                if (wp < 0 || wp % g.strideW != 0) continue;
                int q = wp / g.strideW;
                if (q >= g.outW) continue;
                acc += col[((long long)img * crs + (c * g.R + r) * g.S + s) * ohw + p * g.outW + q];
            }
        }
        dx[t] = acc;
    }
}

// y[n, k, :] += bias[k].
KERNEL add_channel_bias(float* y, const float* bias, int total, int channels, int spatial)
{
    FOR_EACH(t, total) y[t] += bias[(t / spatial) % channels];
}

struct Pool { int H, W, KH, KW, strideH, strideW, padH, padW, outH, outW; };

// The first maximum of each window (NaN wins), its plane-local position stored as a float.
KERNEL max_pool(const float* x, float* y, float* indices, int planes, Pool g)
{
    int ohw = g.outH * g.outW;
    FOR_EACH(t, planes * ohw)
    {
        int plane = t / ohw, p = (t % ohw) / g.outW, q = t % g.outW;
        const float* src = x + (long long)plane * g.H * g.W;
        float best = -__builtin_inff();
        int arg = -1;
        for (int r = 0; r < g.KH; r++)
        {
            int h = p * g.strideH - g.padH + r;
            if ((unsigned)h >= (unsigned)g.H) continue;
            for (int s = 0; s < g.KW; s++)
            {
                int w = q * g.strideW - g.padW + s;
                if ((unsigned)w >= (unsigned)g.W) continue;
                float v = src[h * g.W + w];
                if (v > best || arg < 0 || v != v) { best = v; arg = h * g.W + w; }
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

// The window's sum over the kernel area (padding counts as zeros, as on the CPU).
KERNEL avg_pool(const float* x, float* y, int planes, Pool g)
{
    int ohw = g.outH * g.outW;
    float inv = 1.f / (g.KH * g.KW);
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
        y[t] = acc * inv;
    }
}

// Each input element gathers the outputs whose windows cover it (deterministic, overwrites dx).
KERNEL avg_pool_grad(const float* dy, float* dx, int planes, Pool g)
{
    float inv = 1.f / (g.KH * g.KW);
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
                acc += gp[(hp / g.strideH) * g.outW + wp / g.strideW] * inv;
            }
        }
        dx[t] = acc;
    }
}
