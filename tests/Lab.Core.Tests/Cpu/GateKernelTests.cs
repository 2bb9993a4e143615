namespace Lab.Core.Tests.Cpu;

/// <summary>
/// What the vectorised recurrent gate kernels' tests share: each checks forward and backward against its layer's
/// equations written out in double precision (<see cref="Check"/>), here run on every unit count from 1 to 40 (every
/// tail of an 8- or 16-lane vector, whole vectors, several rows), batch 1 and odd batches, and pre-activations large
/// enough to saturate every gate.
/// </summary>
public abstract class GateKernelTests
{
    protected static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 16)]
    [InlineData(3, 7)]
    [InlineData(5, 37)]
    [InlineData(2, 64)]
    [InlineData(32, 64)]
    public void ForwardAndBackwardMatchTheEquations(int batch, int hidden) => Check(batch, hidden, scale: 2, seed: 1);

    [Fact]
    public void EveryUnitCountCoversItsTail()
    {
        for (int hidden = 1; hidden <= 40; hidden++)
        {
            Check(1, hidden, scale: 2, seed: (ulong)hidden);
            Check(3, hidden, scale: 2, seed: 100 + (ulong)hidden);
        }
    }

    [Fact]
    public void SaturatedGatesStayFinite() => Check(4, 21, scale: 40, seed: 9);

    /// <summary>Runs the kernels on draws of <paramref name="scale"/> and compares them with the equations in double.</summary>
    protected abstract void Check(int batch, int hidden, float scale, ulong seed);
}
