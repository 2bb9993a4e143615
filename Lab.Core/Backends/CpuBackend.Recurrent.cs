namespace Lab.Core.Backends;

/// <summary>
/// The fused gate kernels of the recurrent layers: one pass over a step's gates instead of a dozen small
/// element-wise ops (each a pass over memory and, under recording, a node). Rows are samples; within a row the
/// gates lie side by side in Keras's order, H units each. The vectorised kernels are in Cpu/LstmKernels and Cpu/GruKernels.
/// </summary>
public sealed partial class CpuBackend
{
    public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden)
        => Cpu.LstmKernels.Forward(xProj.Span, hProj.Span, cPrev.Span, state.Span, batch, hidden);

    public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
        => Cpu.LstmKernels.Backward(xProj.Span, hProj.Span, cPrev.Span, state.Span, dState.Span, dGates.Span, dCPrev.Span, batch, hidden);

    public void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden)
        => Cpu.GruKernels.Forward(xProj.Span, hProj.Span, hPrev.Span, h.Span, batch, hidden);

    public void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj, in StorageView dHProj, in StorageView dHPrev, int batch, int hidden)
        => Cpu.GruKernels.Backward(xProj.Span, hProj.Span, hPrev.Span, dh.Span, dXProj.Span, dHProj.Span, dHPrev.Span, batch, hidden);
}
