// Fused optimizer updates: one pass over each parameter, the same arithmetic as the CPU backend.
#include "math.cuh"

// maxV may be null (AMSGrad off): then v itself is the denominator's second moment.
KERNEL adam_step(float* p, const float* g, float* m, float* v, float* maxV, int n,
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
        if (maxV) { vi = __builtin_fmaxf(maxV[i], vi); maxV[i] = vi; }
        p[i] = pi * keep - step * mi / (__builtin_sqrtf(vi) + eps);
    }
}

// velocity may be null (plain SGD). gradScale is 1 - dampening (1 on the buffer's first step); the undamped
// expression is kept apart so that the default's arithmetic (and its contraction into fma) does not change.
KERNEL sgd_step(float* p, const float* g, float* velocity, int n, float lr, float momentum, float gradScale, int nesterov, float wd)
{
    FOR_EACH(i, n)
    {
        float gi = g[i] + wd * p[i];
        if (!velocity) { p[i] -= lr * gi; continue; }
        float bi = gradScale == 1.f ? momentum * velocity[i] + gi : momentum * velocity[i] + gradScale * gi;
        velocity[i] = bi;
        p[i] -= lr * (nesterov ? gi + momentum * bi : bi);
    }
}

// gradAverage (centred form) and momentumBuffer may be null.
KERNEL rmsprop_step(float* p, const float* g, float* square, float* gradAverage, float* momentumBuffer, int n,
    float lr, float rho, float eps, float momentum, float wd)
{
    FOR_EACH(i, n)
    {
        float gi = g[i] + wd * p[i];
        float si = rho * square[i] + (1.f - rho) * gi * gi;
        square[i] = si;
        if (gradAverage)
        {
            float ai = rho * gradAverage[i] + (1.f - rho) * gi;
            gradAverage[i] = ai;
            si -= ai * ai;
        }
        float update = gi / (__builtin_sqrtf(si) + eps);
        if (momentumBuffer) { update = momentum * momentumBuffer[i] + update; momentumBuffer[i] = update; }
        p[i] -= lr * update;
    }
}
