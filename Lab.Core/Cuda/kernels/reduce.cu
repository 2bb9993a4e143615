// Reductions over the middle axis of an [outer, n, inner] view, softmax, and the sums that optimizers
// and convolution biases need. A reduction runs in one pass, or in two when few outputs share a long
// axis: the first writes per-chunk partials (values and, for Max/Min/Arg*, the winning indices), the
// second reduces the partials with the same kernel.
#include "math.cuh"

enum { R_SUM, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN };

// NaN beats every number (Max and Min propagate it, ArgMax/ArgMin find the first one); ties go to the
// lower index, so results match a sequential scan. idx < 0 marks an empty slot.
DEVICE bool better(bool isMax, float v, float i, float bestV, float bestI)
{
    if (i < 0.f) return false;
    if (bestI < 0.f) return true;
    bool vn = is_nan(v), bn = is_nan(bestV);
    if (vn != bn) return vn;
    if (!vn && v != bestV) return isMax ? v > bestV : v < bestV;
    return i < bestI;
}

struct Best { float v, i; };

DEVICE Best warp_best(bool isMax, Best b)
{
    for (int o = 16; o > 0; o >>= 1)
    {
        float v = __nvvm_shfl_sync_down_f32(0xffffffffu, b.v, o, 31);
        float i = __nvvm_shfl_sync_down_f32(0xffffffffu, b.i, o, 31);
        if (better(isMax, v, i, b.v, b.i)) { b.v = v; b.i = i; }
    }
    return b;
}

DEVICE void write_result(int op, bool final, float* y, float* yidx, int at, float v, float i)
{
    bool arg = op == R_ARGMAX || op == R_ARGMIN;
    y[at] = final && arg ? i : v;
    if (yidx) yidx[at] = i;
}

// inner == 1: one block per (row, chunk) of a long row.
KERNEL reduce_rows(int op, const float* x, const float* xidx, int rows, int n, int chunk, int chunks,
    float* y, float* yidx, int final)
{
    __shared__ float sv[32], si[32];
    bool isMax = op == R_MAX || op == R_ARGMAX;
    for (int t = blockIdx.x; t < rows * chunks; t += gridDim.x)
    {
        int row = t / chunks, c = t % chunks;
        int start = c * chunk, end = start + chunk < n ? start + chunk : n;
        const float* xr = x + (long long)row * n;
        if (op == R_SUM)
        {
            float acc = 0.f;
            for (int j = start + threadIdx.x; j < end; j += blockDim.x) acc += xr[j];
            acc = block_sum(acc, sv);
            if (threadIdx.x == 0) write_result(op, final, y, yidx, t, acc, 0.f);
            continue;
        }
        Best b = { isMax ? -inf_f() : inf_f(), -1.f };
        for (int j = start + threadIdx.x; j < end; j += blockDim.x)
        {
            float v = xr[j], i = xidx ? xidx[(long long)row * n + j] : (float)j;
            if (better(isMax, v, i, b.v, b.i)) { b.v = v; b.i = i; }
        }
        b = warp_best(isMax, b);
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
        __syncthreads();
        if (lane == 0) { sv[warp] = b.v; si[warp] = b.i; }
        __syncthreads();
        if (warp == 0)
        {
            Best w = { lane < warps ? sv[lane] : 0.f, lane < warps ? si[lane] : -1.f };
            w = warp_best(isMax, w);
            if (lane == 0) write_result(op, final, y, yidx, t, w.v, w.i);
        }
    }
}

// inner > 1: a 32 x 8 block covers 32 adjacent columns (coalesced) and splits the axis 8 ways.
KERNEL reduce_cols(int op, const float* x, const float* xidx, int outer, int n, int inner, int chunk, int chunks,
    float* y, float* yidx, int final)
{
    __shared__ float sv[8][33], si[8][33];
    bool isMax = op == R_MAX || op == R_ARGMAX;
    int tx = threadIdx.x, ty = threadIdx.y;
    int tiles = (inner + 31) / 32;
    for (int t = blockIdx.x; t < outer * tiles * chunks; t += gridDim.x)
    {
        int c = t % chunks, rest = t / chunks, tile = rest % tiles, o = rest / tiles;
        int i = tile * 32 + tx;
        int start = c * chunk, end = start + chunk < n ? start + chunk : n;
        float v = op == R_SUM ? 0.f : isMax ? -inf_f() : inf_f(), bi = -1.f;
        if (i < inner)
            for (int j = start + ty; j < end; j += 8)
            {
                long long at = ((long long)o * n + j) * inner + i;
                float xv = x[at];
                if (op == R_SUM) v += xv;
                else
                {
                    float xi = xidx ? xidx[at] : (float)j;
                    if (better(isMax, xv, xi, v, bi)) { v = xv; bi = xi; }
                }
            }
        sv[ty][tx] = v;
        si[ty][tx] = bi;
        __syncthreads();
        if (ty == 0 && i < inner)
        {
            for (int k = 1; k < 8; k++)
            {
                if (op == R_SUM) v += sv[k][tx];
                else if (better(isMax, sv[k][tx], si[k][tx], v, bi)) { v = sv[k][tx]; bi = si[k][tx]; }
            }
            write_result(op, final, y, yidx, ((o * chunks) + c) * inner + i, v, bi);
        }
        __syncthreads();
    }
}

// One thread per output, a sequential scan of its (short or strided) axis.
KERNEL reduce_strided(int op, const float* x, int outer, int n, int inner, float* y)
{
    bool isMax = op == R_MAX || op == R_ARGMAX;
    FOR_EACH(t, outer * inner)
    {
        int o = t / inner, i = t % inner;
        const float* base = x + (long long)o * n * inner + i;
        if (op == R_SUM)
        {
            float acc = 0.f;
            for (int j = 0; j < n; j++) acc += base[(long long)j * inner];
            y[t] = acc;
            continue;
        }
        float v = isMax ? -inf_f() : inf_f(), bi = -1.f;
        for (int j = 0; j < n; j++)
        {
            float xv = base[(long long)j * inner];
            if (better(isMax, xv, (float)j, v, bi)) { v = xv; bi = (float)j; }
        }
        y[t] = op == R_ARGMAX || op == R_ARGMIN ? bi : v;
    }
}

// ---- softmax over [outer, n, inner] ----

KERNEL softmax_rows(const float* x, float* y, int rows, int n, int log)
{
    __shared__ float scratch[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x)
    {
        const float* xr = x + (long long)row * n;
        float* yr = y + (long long)row * n;
        float m = -inf_f();
        for (int j = threadIdx.x; j < n; j += blockDim.x) m = max_nan(m, xr[j]);
        m = block_max(m, scratch);
        float s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += lab_exp(xr[j] - m);
        s = block_sum(s, scratch);
        if (log)
        {
            float ls = lab_log(s);
            for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = (xr[j] - m) - ls;
        }
        else
        {
            float inv = 1.f / s;
            for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = lab_exp(xr[j] - m) * inv;
        }
    }
}

KERNEL softmax_cols(const float* x, float* y, int outer, int n, int inner, int log)
{
    FOR_EACH(t, outer * inner)
    {
        int o = t / inner, i = t % inner;
        long long b = (long long)o * n * inner + i;
        float m = -inf_f();
        for (int j = 0; j < n; j++) m = max_nan(m, x[b + (long long)j * inner]);
        float s = 0.f;
        for (int j = 0; j < n; j++) s += lab_exp(x[b + (long long)j * inner] - m);
        float ls = lab_log(s);
        for (int j = 0; j < n; j++)
        {
            float z = x[b + (long long)j * inner] - m;
            y[b + (long long)j * inner] = log ? z - ls : lab_exp(z) / s;
        }
    }
}

// dx = y (dy - sum(dy y)) for softmax, dy - exp(y) sum(dy) for log-softmax (y is the forward output).
KERNEL softmax_grad_rows(const float* y, const float* dy, float* dx, int rows, int n, int log)
{
    __shared__ float scratch[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x)
    {
        long long b = (long long)row * n;
        float dot = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) dot += log ? dy[b + j] : dy[b + j] * y[b + j];
        dot = block_sum(dot, scratch);
        for (int j = threadIdx.x; j < n; j += blockDim.x)
            dx[b + j] = log ? dy[b + j] - lab_exp(y[b + j]) * dot : y[b + j] * (dy[b + j] - dot);
    }
}

KERNEL softmax_grad_cols(const float* y, const float* dy, float* dx, int outer, int n, int inner, int log)
{
    FOR_EACH(t, outer * inner)
    {
        int o = t / inner, i = t % inner;
        long long b = (long long)o * n * inner + i;
        float dot = 0.f;
        for (int j = 0; j < n; j++)
        {
            long long k = b + (long long)j * inner;
            dot += log ? dy[k] : dy[k] * y[k];
        }
        for (int j = 0; j < n; j++)
        {
            long long k = b + (long long)j * inner;
            dx[k] = log ? dy[k] - lab_exp(y[k]) * dot : y[k] * (dy[k] - dot);
        }
    }
}

// ---- sums for optimizers and convolution ----

// *result (zeroed by the host) += sum of x^2; one atomic per block.
KERNEL sum_of_squares(const float* x, int n, float* result)
{
    __shared__ float scratch[32];
    float acc = 0.f;
    FOR_EACH(i, n) acc = __builtin_fmaf(x[i], x[i], acc);
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) __nvvm_atom_add_gen_f(result, acc);
}

// db[c] = sum over images and positions of dy, N x C x spatial.
KERNEL channel_sum(const float* dy, float* db, int n, int channels, int spatial)
{
    __shared__ float scratch[32];
    int count = n * spatial;
    for (int c = blockIdx.x; c < channels; c += gridDim.x)
    {
        float acc = 0.f;
        for (int t = threadIdx.x; t < count; t += blockDim.x)
        {
            int img = t / spatial, s = t % spatial;
            acc += dy[((long long)img * channels + c) * spatial + s];
        }
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) db[c] = acc;
    }
}
