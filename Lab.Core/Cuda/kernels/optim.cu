// Fused optimizer updates: one pass over each parameter, the same arithmetic as the CPU backend.
#include "math.cuh"

KERNEL adam_step(float* p, const float* g, float* m, float* v, int n,
    float step, float b1, float b2, float eps, float wd, float keep)
{
    float c1 = 1.f - b1, c2 = 1.f - b2;
    FOR_EACH(i, n)
    {
        float pi = p[i], gi = g[i] + wd * pi;
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi * keep - step * mi / (__builtin_sqrtf(vi) + eps);
    }
}

// velocity may be null (plain SGD).
KERNEL sgd_step(float* p, const float* g, float* velocity, int n, float lr, float momentum, int nesterov, float wd)
{
    FOR_EACH(i, n)
    {
        float gi = g[i] + wd * p[i];
        if (!velocity) { p[i] -= lr * gi; continue; }
        float bi = momentum * velocity[i] + gi;
        velocity[i] = bi;
        p[i] -= lr * (nesterov ? gi + momentum * bi : bi);
    }
}

// momentumBuffer may be null.
KERNEL rmsprop_step(float* p, const float* g, float* square, float* momentumBuffer, int n,
    float lr, float rho, float eps, float momentum, float wd)
{
    FOR_EACH(i, n)
    {
        float gi = g[i] + wd * p[i];
        float si = rho * square[i] + (1.f - rho) * gi * gi;
        square[i] = si;
        float update = gi / (__builtin_sqrtf(si) + eps);
        if (momentumBuffer) { update = momentum * momentumBuffer[i] + update; momentumBuffer[i] = update; }
        p[i] -= lr * update;
    }
}
