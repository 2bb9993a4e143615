using Xunit;

namespace Lab.Core.Tests.Cpu;

/// <summary>Operand set-up and the double-precision triple loop every GEMM result is compared with.</summary>
internal static class GemmReference
{
    public const float GapValue = 12345f; // fills the gap between row end and ld; must survive every call

    /// <summary>A stored rows x cols matrix with leading dimension ld, values in [-1, 1), padding marked.</summary>
    public static float[] Matrix(Random rng, int rows, int cols, int ld, int extra = 0)
    {
        var x = new float[Math.Max(0, (rows - 1) * ld + cols) + extra];
        Array.Fill(x, GapValue);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) x[i * ld + j] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    public static double Op(float[] x, int offset, int ld, bool trans, int i, int j) =>
        trans ? x[offset + j * ld + i] : x[offset + i * ld + j];

    /// <summary>Checks c (at cOffset) against alpha * op(A) op(B) + beta * c0 in double, and that padding is intact.</summary>
    public static void Check(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta,
        float[] c0, float[] c, int cOffset, int ldc, string what)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = Op(a, aOffset, lda, transA, i, p) * Op(b, bOffset, ldb, transB, p, j);
                    sum += prod;
                    magnitude += Math.Abs(prod);
                }
                double old = c0[cOffset + i * ldc + j];
                double expected = alpha * sum + (beta == 0 ? 0 : beta * old);
                double scale = Math.Abs(alpha) * magnitude + (beta == 0 ? 0 : Math.Abs(beta * old));
                double tol = 1e-5 * Math.Max(k, 1) * Math.Max(scale, 1e-3);
                float got = c[cOffset + i * ldc + j];
                if (!(Math.Abs(got - expected) <= tol))
                    Assert.Fail($"{what}: c[{i},{j}] = {got}, expected {expected} (tol {tol})");
            }
            for (int j = n; j < ldc && i < m - 1; j++)
                if (c[cOffset + i * ldc + j] != GapValue)
                    Assert.Fail($"{what}: padding c[{i},{j}] was overwritten with {c[cOffset + i * ldc + j]}");
        }
    }
}
