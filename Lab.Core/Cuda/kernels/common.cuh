// Shared by every kernel file. There is no CUDA SDK on the build machines: clang-14 compiles these
// sources with -nocudainc -nocudalib, so the attributes the SDK headers would define are spelled out
// here, and every math function comes from math.cuh rather than libdevice.
#pragma once
#include "__clang_cuda_builtin_vars.h"

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define KERNEL extern "C" __global__ void
#define DEVICE static __device__ inline __attribute__((always_inline))

// Up to eight dimensions (sizes or strides), passed by value; the host coalesces shapes to fit.
struct Dims { int v[8]; };

DEVICE int global_id() { return (int)(blockIdx.x * blockDim.x + threadIdx.x); }
DEVICE int global_stride() { return (int)(gridDim.x * blockDim.x); }

// Grid-stride loop: the host caps the grid, so one launch shape serves every length.
#define FOR_EACH(i, n) for (int i = global_id(); i < (n); i += global_stride())

DEVICE float nan_f() { return __builtin_nanf(""); }
DEVICE float inf_f() { return __builtin_inff(); }
DEVICE bool is_nan(float x) { return x != x; }

// Block-wide reductions for blocks of up to 1024 threads whose size is a multiple of 32. Butterfly
// shuffles leave the result in every lane, so every thread of the block returns it.
DEVICE float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __nvvm_shfl_sync_bfly_f32(0xffffffffu, v, o, 31);
    return v;
}

DEVICE float block_sum(float v, float* scratch /* 32 floats of shared memory */)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads(); // scratch may still be read from a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_sum(lane < warps ? scratch[lane] : 0.f);
}

DEVICE float max_nan(float a, float b) { return (a > b || is_nan(a)) ? a : b; }

DEVICE float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __nvvm_shfl_sync_bfly_f32(0xffffffffu, v, o, 31));
    return v;
}

DEVICE float block_max(float v, float* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_max(lane < warps ? scratch[lane] : -inf_f());
}

// An index stored as a float is valid when integral and in [0, n); kernels report a bad one through *error.
DEVICE bool valid_index(float f, int n) { return f >= 0.f && f < (float)n && f == __builtin_floorf(f); }
