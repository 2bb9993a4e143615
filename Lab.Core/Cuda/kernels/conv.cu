// Convolution by im2col / col2im around cuBLAS GEMMs (pooling is in pool.cu). Layouts are NCHW; a column
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
