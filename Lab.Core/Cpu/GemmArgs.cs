namespace Lab.Core.Cpu;

/// <summary>
/// Argument validation for <see cref="Gemm"/>: everything the kernels later touch through raw pointers is
/// proven in bounds here, and a bad call fails with a message that names the argument and the sizes.
/// Messages are only formatted on failure, so a valid call allocates nothing.
/// </summary>
internal static class GemmArgs
{
    public static void Check(string op, bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, long strideA, int bLength, int ldb, long strideB,
        int cLength, int ldc, long strideC, int batch)
    {
        NonNegative(op, "m", m);
        NonNegative(op, "n", n);
        NonNegative(op, "k", k);
        NonNegative(op, "batch", batch);
        bool batched = op != "Sgemm";

        // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), C is m x n.
        var a = new Operand("a", "lda", "strideA", transA ? k : m, transA ? m : k, aLength, lda, strideA,
            ("m", m), ("k", k), transA ? "transA=true" : null);
        var b = new Operand("b", "ldb", "strideB", transB ? n : k, transB ? k : n, bLength, ldb, strideB,
            ("k", k), ("n", n), transB ? "transB=true" : null);
        var c = new Operand("c", "ldc", "strideC", m, n, cLength, ldc, strideC, ("m", m), ("n", n), null);
        a.Check(op, batch, batched);
        b.Check(op, batch, batched);
        c.Check(op, batch, batched);
        if (batched && batch > 1 && strideC < c.OneMatrix)
            throw new ArgumentException(
                $"{op}: strideC={strideC} is smaller than one output matrix ({c.OneMatrix} elements for {c.Dims()}), " +
                "so the products would overwrite each other.", "strideC");
    }

    private readonly record struct Operand(string Name, string LdName, string StrideName, int Rows, int Cols,
        int Length, int Ld, long Stride, (string Name, int Value) Dim1, (string Name, int Value) Dim2, string? Trans)
    {
        /// <summary>Elements one stored matrix spans: the last row needs only its own columns, not a full ld.</summary>
        public long OneMatrix => Rows == 0 || Cols == 0 ? 0 : (long)(Rows - 1) * Ld + Cols;

        public string Dims() =>
            $"{Dim1.Name}={Dim1.Value}, {Dim2.Name}={Dim2.Value}, {LdName}={Ld}" + (Trans is null ? "" : ", " + Trans);

        public void Check(string op, int batch, bool batched)
        {
            if (Ld < Cols || Ld < 1)
                throw new ArgumentException(
                    $"{op}: {LdName}={Ld} is less than the row length {Math.Max(Cols, 1)} of {Name} ({Dims()}).", LdName);
            if (batched && Stride < 0)
                throw new ArgumentException($"{op}: {StrideName}={Stride} must be non-negative.", StrideName);
            long need = !batched ? OneMatrix : batch == 0 || OneMatrix == 0 ? 0 : (batch - 1) * Stride + OneMatrix;
            if (Length < need)
            {
                string where = batched ? $"batch={batch}, {StrideName}={Stride}, {Dims()}" : Dims();
                throw new ArgumentException($"{op}: {Name} has {Length} elements, needs at least {need} for {where}", Name);
            }
        }
    }

    private static void NonNegative(string op, string name, int value)
    {
        if (value < 0)
            throw new ArgumentException($"{op}: {name}={value} must be non-negative.", name);
    }
}
