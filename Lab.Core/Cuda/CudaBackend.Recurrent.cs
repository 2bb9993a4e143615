using Lab.Core.Backends;

namespace Lab.Core.Cuda;

/// <summary>The recurrent layers' fused gate kernels (kernels/recurrent.cu), one thread per sample and unit.</summary>
public sealed partial class CudaBackend
{
    public void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.LstmCell, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(cPrev), Ptr(state), batch, hidden);
    }

    public void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.LstmCellGrad, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(cPrev), Ptr(state), Ptr(dState), Ptr(dGates), Ptr(dCPrev), batch, hidden);
    }

    public void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.GruCell, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(hPrev), Ptr(h), batch, hidden);
    }

    public void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj, in StorageView dHProj, in StorageView dHPrev, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.GruCellGrad, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(hPrev), Ptr(dh), Ptr(dXProj), Ptr(dHProj), Ptr(dHPrev), batch, hidden);
    }
}
