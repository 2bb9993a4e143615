using System.Runtime.InteropServices;

namespace Lab.Bench;

/// <summary>
/// OpenBLAS's cblas_sgemm, loaded at run time for side-by-side comparison only: GenLab never depends on it,
/// and the benchmarks skip the column when the library is absent (apt-get install libopenblas0-pthread).
/// </summary>
internal static unsafe class GemmOpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setThreads;

    static GemmOpenBlas()
    {
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas.dll", "libopenblas.dylib" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (!NativeLibrary.TryGetExport(lib, "cblas_sgemm", out var sgemm)) continue;
            s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            if (NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var set))
                s_setThreads = (delegate* unmanaged<int, void>)set;
            return;
        }
    }

    public static bool Available => s_sgemm != null;

    public static void SetThreads(int threads)
    {
        if (s_setThreads != null) s_setThreads(threads);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        if (!Available) throw new InvalidOperationException("OpenBLAS (libopenblas.so.0) is not installed.");
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            SgemmAt(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    public static void SgemmAt(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
