namespace Lab.Bench;

/// <summary>A GEMM problem as the benchmarks run it: op(A) is m x k, op(B) is k x n, repeated batch times.</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransA = false, bool TransB = false, int Batch = 1)
{
    public double Flops => 2.0 * M * N * K * Batch;

    public override string ToString() => Name;

    /// <summary>Products the seed models actually run (dense layers, im2col convolutions and their gradients).</summary>
    public static readonly GemmShape[] Seeds =
    [
        new("mlp 10x2@2x10", 10, 10, 2),
        new("dense 32x64@64x64", 32, 64, 64),
        new("im2col 16x36@36x64", 16, 64, 36),
        new("conv 32x576@576x64", 32, 64, 576),
        new("conv1 21632x9@9x32", 21632, 32, 9),
        new("conv1 b32 676x9@9x32", 676, 32, 9, Batch: 32),
        new("conv 1152x288@288x64", 1152, 64, 288),
        new("dW 288x1152^T@1152x64", 288, 64, 1152, TransA: true),
        new("dX 1152x64@(288x64)^T", 1152, 288, 64, TransB: true),
    ];

    public static GemmShape Square(int size) => new($"{size}^3", size, size, size);
}
