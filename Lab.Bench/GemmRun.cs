using Lab.Core.Cpu;

namespace Lab.Bench;

/// <summary>Operands for one <see cref="GemmShape"/>, and the call into each library under test.</summary>
public sealed class GemmRun
{
    private readonly GemmShape _s;
    private readonly float[] _a, _b, _c;
    private readonly int _lda, _ldb;

    public GemmRun(GemmShape shape)
    {
        _s = shape;
        _lda = shape.TransA ? shape.M : shape.K;
        _ldb = shape.TransB ? shape.K : shape.N;
        var rng = new Random(1);
        _a = Fill(rng, (long)shape.M * shape.K * shape.Batch);
        _b = Fill(rng, (long)shape.K * shape.N * shape.Batch);
        _c = new float[(long)shape.M * shape.N * shape.Batch];
    }

    public void GenLab(int threads)
    {
        Gemm.MaxThreads = threads;
        if (_s.Batch == 1)
            Gemm.Sgemm(_s.TransA, _s.TransB, _s.M, _s.N, _s.K, 1f, _a, _lda, _b, _ldb, 0f, _c, _s.N);
        else
            Gemm.SgemmBatched(_s.TransA, _s.TransB, _s.M, _s.N, _s.K, 1f, _a, _lda, (long)_s.M * _s.K,
                _b, _ldb, (long)_s.K * _s.N, 0f, _c, _s.N, (long)_s.M * _s.N, _s.Batch);
    }

    /// <summary>OpenBLAS has no strided-batch cblas call in every build, so batches loop (as a caller would).</summary>
    public unsafe void OpenBlas(int threads)
    {
        GemmOpenBlas.SetThreads(threads);
        if (_s.Batch == 1)
        {
            GemmOpenBlas.Sgemm(_s.TransA, _s.TransB, _s.M, _s.N, _s.K, 1f, _a, _lda, _b, _ldb, 0f, _c, _s.N);
            return;
        }
        fixed (float* a = _a) fixed (float* b = _b) fixed (float* c = _c)
            for (int i = 0; i < _s.Batch; i++)
                GemmOpenBlas.SgemmAt(_s.TransA, _s.TransB, _s.M, _s.N, _s.K, 1f, a + (long)i * _s.M * _s.K, _lda,
                    b + (long)i * _s.K * _s.N, _ldb, 0f, c + (long)i * _s.M * _s.N, _s.N);
    }

    private static float[] Fill(Random rng, long count)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
