// Element-wise kernels. Op codes are the C# enums' values (UnaryOp, BinaryOp); a test pins them.
// Pow has kernels of its own: its double-precision path needs many registers, and a kernel is given the
// registers of its most demanding branch, which would cut the occupancy of every other op.
#include "math.cuh"

enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIGN, U_RELU, U_LEAKY_RELU, U_SIGMOID, U_TANH, U_SOFTPLUS, U_POW, U_AFFINE, U_CLAMP };
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE };

DEVICE float unary_f(int op, float x, float a, float b)
{
    switch (op)
    {
    case U_NEG: return -x;
    case U_EXP: return lab_exp(x);
    case U_LOG: return lab_log(x);
    case U_SQRT: return __builtin_sqrtf(x);
    case U_ABS: return __builtin_fabsf(x);
    case U_SIGN: return x > 0.f ? 1.f : x < 0.f ? -1.f : x; // keeps 0 and NaN
    case U_RELU: return x > 0.f || is_nan(x) ? x : 0.f;
    case U_LEAKY_RELU: return x > 0.f ? x : a * x;
    case U_SIGMOID: return lab_sigmoid(x);
    case U_TANH: return lab_tanh(x);
    case U_SOFTPLUS: return lab_softplus(x);
    case U_AFFINE: return a * x + b;
    case U_CLAMP: return is_nan(x) ? x : __builtin_fminf(__builtin_fmaxf(x, a), b);
    default: return nan_f();
    }
}

// dx = f'(x) dy, with y = f(x) for the rules that read the output.
DEVICE float unary_grad_f(int op, float x, float y, float g, float a)
{
    switch (op)
    {
    case U_NEG: return -g;
    case U_EXP: return g * y;
    case U_LOG: return g / x;
    case U_SQRT: return g * 0.5f / y;
    case U_ABS: return x > 0.f ? g : x < 0.f ? -g : 0.f;
    case U_SIGN: return 0.f;
    case U_RELU: return x <= 0.f ? 0.f : g; // NaN passes g, as PyTorch's threshold_backward
    case U_LEAKY_RELU: return x > 0.f ? g : a * g;
    case U_SIGMOID: return g * y * (1.f - y);
    case U_TANH: return g * (1.f - y * y);
    case U_SOFTPLUS: return g / (1.f + lab_exp(-x));
    case U_AFFINE: return g * a;
    default: return nan_f();
    }
}

KERNEL unary(int op, const float* x, float* y, int n, float a, float b)
{
    FOR_EACH(i, n) y[i] = unary_f(op, x[i], a, b);
}

KERNEL unary_pow(const float* x, float* y, int n, float a)
{
    FOR_EACH(i, n) y[i] = a == 0.f ? 1.f : lab_pow(x[i], a);
}

KERNEL unary_grad(int op, const float* x, const float* y, const float* dy, float* dx, int n, float a, float b)
{
    if (op == U_CLAMP) { FOR_EACH(i, n) dx[i] = x[i] >= a && x[i] <= b ? dy[i] : 0.f; return; }
    FOR_EACH(i, n) dx[i] = unary_grad_f(op, x[i], y[i], dy[i], a);
}

KERNEL unary_grad_pow(const float* x, const float* dy, float* dx, int n, float a)
{
    FOR_EACH(i, n) dx[i] = a == 2.f ? 2.f * x[i] * dy[i] : dy[i] * a * lab_pow(x[i], a - 1.f);
}

DEVICE float binary_f(int op, float x, float y)
{
    switch (op)
    {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_MAXIMUM: return is_nan(x) || is_nan(y) ? nan_f() : __builtin_fmaxf(x, y);
    case B_MINIMUM: return is_nan(x) || is_nan(y) ? nan_f() : __builtin_fminf(x, y);
    case B_EQ: return x == y ? 1.f : 0.f;
    case B_NE: return x != y ? 1.f : 0.f;
    case B_LT: return x < y ? 1.f : 0.f;
    case B_LE: return x <= y ? 1.f : 0.f;
    case B_GT: return x > y ? 1.f : 0.f;
    case B_GE: return x >= y ? 1.f : 0.f;
    default: return nan_f();
    }
}

struct BinaryF { int op; __device__ float operator()(float x, float y) const { return binary_f(op, x, y); } };
struct PowF { __device__ float operator()(float x, float y) const { return lab_pow(x, y); } };

// y[i] = a[.] op b[.] over a coalesced broadcast: size[d] from the innermost dimension out, and each
// operand's stride per dimension (0 where it is broadcast). The common cases take the first branches.
template <class F>
__device__ inline void binary_loop(F f, const float* a, const float* b, float* y, int n, int dims, Dims size, Dims sa, Dims sb)
{
    if (dims == 1 && sa.v[0] == 1 && sb.v[0] == 1) { FOR_EACH(i, n) y[i] = f(a[i], b[i]); return; }
    if (dims == 1 && sa.v[0] == 1 && sb.v[0] == 0) { float s = b[0]; FOR_EACH(i, n) y[i] = f(a[i], s); return; }
    if (dims == 1 && sa.v[0] == 0 && sb.v[0] == 1) { float s = a[0]; FOR_EACH(i, n) y[i] = f(s, b[i]); return; }
    FOR_EACH(i, n)
    {
        int rest = i, oa = 0, ob = 0;
        for (int d = 0; d < dims; d++)
        {
            int c = rest % size.v[d];
            rest /= size.v[d];
            oa += c * sa.v[d];
            ob += c * sb.v[d];
        }
        y[i] = f(a[oa], b[ob]);
    }
}

KERNEL binary(int op, const float* a, const float* b, float* y, int n, int dims, Dims size, Dims sa, Dims sb)
{
    binary_loop(BinaryF{op}, a, b, y, n, dims, size, sa, sb);
}

KERNEL binary_pow(const float* a, const float* b, float* y, int n, int dims, Dims size, Dims sa, Dims sb)
{
    binary_loop(PowF{}, a, b, y, n, dims, size, sa, sb);
}

KERNEL where_select(const float* cond, const float* a, const float* b, float* y, int n, int dims, Dims size, Dims sc, Dims sa, Dims sb)
{
    FOR_EACH(i, n)
    {
        int rest = i, oc = 0, oa = 0, ob = 0;
        for (int d = 0; d < dims; d++)
        {
            int c = rest % size.v[d];
            rest /= size.v[d];
            oc += c * sc.v[d];
            oa += c * sa.v[d];
            ob += c * sb.v[d];
        }
        y[i] = cond[oc] != 0.f ? a[oa] : b[ob];
    }
}

KERNEL axpy(float alpha, const float* x, float* y, int n)
{
    FOR_EACH(i, n) y[i] = __builtin_fmaf(alpha, x[i], y[i]);
}
