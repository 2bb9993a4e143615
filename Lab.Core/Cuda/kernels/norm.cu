// Layer normalisation over contiguous rows: one block per row (grid-stride over rows), block-wide sums
// in two passes (mean, then squared deviations).
#include "math.cuh"

KERNEL layer_norm_rows(const float* x, float* y, float* rstd, int rows, int n, float eps)
{
    __shared__ float scratch[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x)
    {
        const float* xr = x + (long long)row * n;
        float* yr = y + (long long)row * n;
        // Centred on the row's first element before summing (x - x0 is exact for nearby values), so that a large
        // common offset costs neither the mean nor the variance their digits.
        float shift = xr[0], s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j] - shift;
        float mean = block_sum(s, scratch) / (float)n;   // of x - shift
        float q = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) { float c = (xr[j] - shift) - mean; q += c * c; }
        float inv = 1.f / __builtin_sqrtf(block_sum(q, scratch) / (float)n + eps);
        for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = ((xr[j] - shift) - mean) * inv;
        if (threadIdx.x == 0) rstd[row] = inv;
    }
}

// dx = rstd (dy - mean(dy) - y mean(dy y)), the adjoint of the normalisation with y and rstd saved.
KERNEL layer_norm_grad_rows(const float* y, const float* rstd, const float* dy, float* dx, int rows, int n)
{
    __shared__ float scratch[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x)
    {
        const float* yr = y + (long long)row * n;
        const float* gr = dy + (long long)row * n;
        float* dr = dx + (long long)row * n;
        float sg = 0.f, sgy = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) { sg += gr[j]; sgy += gr[j] * yr[j]; }
        float meanG = block_sum(sg, scratch) / (float)n;
        float meanGy = block_sum(sgy, scratch) / (float)n;
        float r = rstd[row];
        for (int j = threadIdx.x; j < n; j += blockDim.x) dr[j] = r * (gr[j] - meanG - yr[j] * meanGy);
    }
}
