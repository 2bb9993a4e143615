// Data movement: permutes, block copies (concat, narrow), index select/add, class gather/scatter.
// Index tensors hold integral floats; a bad index writes 1 to *error (the host checks it at the next
// download) and is skipped rather than read out of bounds.
#include "common.cuh"

// y = x.permute(...): out[d] is y's size and step[d] x's stride for y's dimension d, innermost first.
KERNEL permute(const float* x, float* y, int n, int rank, Dims out, Dims step)
{
    FOR_EACH(i, n)
    {
        int rest = i, off = 0;
        for (int d = 0; d < rank; d++)
        {
            int c = rest % out.v[d];
            rest /= out.v[d];
            off += c * step.v[d];
        }
        y[i] = x[off];
    }
}

// Tiled transpose of a batch of rows x cols matrices (the permutes that swap the last two axes).
KERNEL transpose(const float* x, float* y, int batch, int rows, int cols)
{
    __shared__ float tile[32][33];
    int tilesR = (rows + 31) / 32, tilesC = (cols + 31) / 32;
    for (int t = blockIdx.x; t < batch * tilesR * tilesC; t += gridDim.x)
    {
        int b = t / (tilesR * tilesC), rest = t % (tilesR * tilesC);
        int r0 = (rest / tilesC) * 32, c0 = (rest % tilesC) * 32;
        const float* xb = x + (long long)b * rows * cols;
        float* yb = y + (long long)b * rows * cols;
        for (int k = threadIdx.y; k < 32; k += blockDim.y)
        {
            int r = r0 + k, c = c0 + threadIdx.x;
            if (r < rows && c < cols) tile[k][threadIdx.x] = xb[(long long)r * cols + c];
        }
        __syncthreads();
        for (int k = threadIdx.y; k < 32; k += blockDim.y)
        {
            int c = c0 + k, r = r0 + threadIdx.x;
            if (r < rows && c < cols) yb[(long long)c * rows + r] = tile[threadIdx.x][k];
        }
        __syncthreads();
    }
}

KERNEL copy_blocks(const float* src, int srcStride, float* dst, int dstStride, int rows, int cols, int accumulate)
{
    FOR_EACH(i, rows * cols)
    {
        int r = i / cols, c = i % cols;
        float v = src[(long long)r * srcStride + c];
        float* d = dst + (long long)r * dstStride + c;
        if (accumulate) *d += v; else *d = v;
    }
}

// y[o, j, i] = x[o, index[j], i] over [outer, n, inner] x and [outer, m, inner] y.
KERNEL index_select(const float* x, const float* index, float* y, int outer, int n, int inner, int m, int* error)
{
    FOR_EACH(t, outer * m * inner)
    {
        int i = t % inner, j = (t / inner) % m, o = t / (inner * m);
        float f = index[j];
        if (!valid_index(f, n)) { *error = 1; y[t] = nan_f(); continue; }
        y[t] = x[((long long)o * n + (int)f) * inner + i];
    }
}

// dx[o, index[j], i] += dy[o, j, i]; indices may repeat, so the adds are atomic.
KERNEL index_add(const float* dy, const float* index, float* dx, int outer, int n, int inner, int m, int* error)
{
    FOR_EACH(t, outer * m * inner)
    {
        int i = t % inner, j = (t / inner) % m, o = t / (inner * m);
        float f = index[j];
        if (!valid_index(f, n)) { *error = 1; continue; }
        __nvvm_atom_add_gen_f(dx + ((long long)o * n + (int)f) * inner + i, dy[t]);
    }
}

KERNEL gather(const float* x, const float* index, float* y, int rows, int n, int* error)
{
    FOR_EACH(r, rows)
    {
        float f = index[r];
        if (!valid_index(f, n)) { *error = 1; y[r] = nan_f(); continue; }
        y[r] = x[(long long)r * n + (int)f];
    }
}

// One index per row, so no two threads touch the same element.
KERNEL scatter_add(const float* dy, const float* index, float* dx, int rows, int n, int* error)
{
    FOR_EACH(r, rows)
    {
        float f = index[r];
        if (!valid_index(f, n)) { *error = 1; continue; }
        dx[(long long)r * n + (int)f] += dy[r];
    }
}
