// Elementary functions for float32, written from their textbook expansions because -nocudalib leaves
// no libdevice. Each is within about 2 ulp of the correctly rounded result (relative error < 3e-7):
// exp by Cody-Waite reduction and a degree-7 Taylor polynomial, log by the atanh series of
// s = (m-1)/(m+1), and pow through the same two in double precision so that the exponent's
// amplification of log's rounding error (|y log x| up to ~100) does not reach the float result.
#pragma once
#include "common.cuh"

DEVICE float bits_to_float(int b) { return __builtin_bit_cast(float, b); }
DEVICE int float_to_bits(float f) { return __builtin_bit_cast(int, f); }
DEVICE double bits_to_double(long long b) { return __builtin_bit_cast(double, b); }
DEVICE long long double_to_bits(double d) { return __builtin_bit_cast(long long, d); }

// 2^k for k in [-126, 127], exactly.
DEVICE float pow2i(int k) { return bits_to_float((k + 127) << 23); }

DEVICE float lab_exp(float x)
{
    if (is_nan(x)) return x;
    if (x > 88.72283935546875f) return inf_f();
    if (x < -103.97208404541016f) return 0.f;
    float n = __builtin_rintf(x * 1.4426950408889634f);
    // ln 2 split so that n * hi is exact for |n| <= 2^8.
    float r = __builtin_fmaf(n, -0.693145751953125f, x);
    r = __builtin_fmaf(n, -1.4286068203094172e-6f, r);
    float p = 1.f / 5040.f;
    p = __builtin_fmaf(p, r, 1.f / 720.f);
    p = __builtin_fmaf(p, r, 1.f / 120.f);
    p = __builtin_fmaf(p, r, 1.f / 24.f);
    p = __builtin_fmaf(p, r, 1.f / 6.f);
    p = __builtin_fmaf(p, r, 0.5f);
    p = __builtin_fmaf(p, r, 1.f);
    p = __builtin_fmaf(p, r, 1.f);
    // n is in [-150, 128]: two factors keep each power of two a normal number.
    int k = (int)n, k1 = k / 2;
    return p * pow2i(k1) * pow2i(k - k1);
}

DEVICE float lab_log(float x)
{
    if (is_nan(x) || x < 0.f) return nan_f();
    if (x == 0.f) return -inf_f();
    if (x == inf_f()) return x;
    int e = 0;
    if (x < 1.17549435e-38f) { x *= 8388608.f; e = -23; } // subnormal: scale by 2^23 first
    int b = float_to_bits(x);
    e += ((b >> 23) & 0xff) - 127;
    float m = bits_to_float((b & 0x007fffff) | 0x3f800000); // [1, 2)
    if (m > 1.41421356f) { m *= 0.5f; e += 1; }              // [sqrt(1/2), sqrt(2)]
    float f = m - 1.f;                                        // exact
    float s = f / (2.f + f), s2 = s * s;                      // |s| <= 0.1716
    // log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...); the s^11 term is below 2e-9 relative.
    float q = __builtin_fmaf(s2, 1.f / 9.f, 1.f / 7.f);
    q = __builtin_fmaf(q, s2, 1.f / 5.f);
    q = __builtin_fmaf(q, s2, 1.f / 3.f);
    float logm = __builtin_fmaf(2.f * s, s2 * q, 2.f * s);
    float fe = (float)e;
    return __builtin_fmaf(fe, 0.693145751953125f, __builtin_fmaf(fe, 1.4286068203094172e-6f, logm));
}

// log(1 + u) for u >= 0, accurate when u is tiny (the softplus tail).
DEVICE float lab_log1p(float u)
{
    float w = 1.f + u;
    if (w == 1.f) return u;
    return lab_log(w) * (u / (w - 1.f));
}

// exp(y) - 1 without cancellation for small |y|.
DEVICE float lab_expm1(float y)
{
    if (__builtin_fabsf(y) < 0.5f)
    {
        float p = 1.f / 362880.f;
        p = __builtin_fmaf(p, y, 1.f / 40320.f);
        p = __builtin_fmaf(p, y, 1.f / 5040.f);
        p = __builtin_fmaf(p, y, 1.f / 720.f);
        p = __builtin_fmaf(p, y, 1.f / 120.f);
        p = __builtin_fmaf(p, y, 1.f / 24.f);
        p = __builtin_fmaf(p, y, 1.f / 6.f);
        p = __builtin_fmaf(p, y, 0.5f);
        return __builtin_fmaf(p * y, y, y);
    }
    return lab_exp(y) - 1.f;
}

DEVICE float lab_tanh(float x)
{
    float a = __builtin_fabsf(x);
    if (a > 9.1f) return __builtin_copysignf(1.f, x);
    float t = lab_expm1(2.f * a);
    return __builtin_copysignf(t / (t + 2.f), x);
}

// Below -80, 1 + exp(x) rounds to 1, so sigmoid(x) is exp(x), a subnormal where 1 / (1 + exp(-x)) would underflow
// to 0 (as the CPU backend and PyTorch: sigmoid(-90) = 8.2e-40).
DEVICE float lab_sigmoid(float x) { return x < -80.f ? lab_exp(x) : 1.f / (1.f + lab_exp(-x)); }

// max(x, 0) + log1p(exp(-|x|)): never overflows.
DEVICE float lab_softplus(float x) { return __builtin_fmaxf(x, 0.f) + lab_log1p(lab_exp(-__builtin_fabsf(x))); }

// ---- double precision, for pow ----

DEVICE double lab_log_d(double x) // x > 0, finite, normal
{
    long long b = double_to_bits(x);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    double m = bits_to_double((b & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
    if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
    double f = m - 1.0, s = f / (2.0 + f), s2 = s * s;
    double q = 1.0 / 23.0;
    for (int k = 21; k >= 3; k -= 2) q = __builtin_fma(q, s2, 1.0 / k);
    double logm = __builtin_fma(2.0 * s, s2 * q, 2.0 * s);
    return __builtin_fma((double)e, 0.6931471805599453, logm);
}

DEVICE float lab_exp_d(double y) // rounded to float
{
    if (y > 89.0) return inf_f();
    if (y < -104.0) return 0.f;
    double n = __builtin_rint(y * 1.4426950408889634);
    double r = __builtin_fma(n, -0.6931471803691238, y);
    r = __builtin_fma(n, -1.9082149292705877e-10, r);
    double p = 1.0 / 6227020800.0; // 1/13!
    double fact = 6227020800.0;
    for (int k = 12; k >= 1; k--) { fact /= (k + 1); p = __builtin_fma(p, r, 1.0 / fact); }
    p = __builtin_fma(p, r, 1.0);
    return (float)(p * bits_to_double((long long)((int)n + 1023) << 52));
}

DEVICE bool is_odd_integer(float y)
{
    if (__builtin_fabsf(y) >= 16777216.f || y != __builtin_floorf(y)) return false; // |y| >= 2^24 is even
    return ((long long)y & 1) != 0;
}

// C's powf: the IEEE special cases first, then exp(y log|x|) in double.
DEVICE float lab_pow(float x, float y)
{
    if (y == 0.f || x == 1.f) return 1.f;
    if (is_nan(x) || is_nan(y)) return nan_f();
    if (y == 1.f) return x;
    if (y == 2.f) return x * x;
    float ax = __builtin_fabsf(x);
    if (y == inf_f() || y == -inf_f())
    {
        if (ax == 1.f) return 1.f;
        return ((ax > 1.f) == (y > 0.f)) ? inf_f() : 0.f;
    }
    bool negate = false;
    if (x < 0.f || (x == 0.f && __builtin_signbitf(x)))
    {
        bool odd = is_odd_integer(y);
        if (x != 0.f && ax != inf_f() && y != __builtin_floorf(y)) return nan_f();
        negate = odd;
    }
    float r;
    if (ax == 0.f) r = y < 0.f ? inf_f() : 0.f;
    else if (ax == inf_f()) r = y < 0.f ? 0.f : inf_f();
    else r = lab_exp_d((double)y * lab_log_d((double)ax));
    return negate ? -r : r;
}
