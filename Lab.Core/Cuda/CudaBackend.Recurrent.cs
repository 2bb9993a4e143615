namespace Lab.Core.Cuda;

/// <summary>The recurrent layers' fused gate kernels (kernels/recurrent.cu), one thread per sample and unit.</summary>
public sealed partial class CudaBackend
{
    public void LstmCell(Tensor xProj, Tensor hProj, Tensor cPrev, Tensor state, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.LstmCell, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(cPrev), Ptr(state), batch, hidden);
    }

    public void LstmCellGrad(Tensor xProj, Tensor hProj, Tensor cPrev, Tensor state, Tensor dState, Tensor dGates, Tensor dCPrev, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.LstmCellGrad, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(cPrev), Ptr(state), Ptr(dState), Ptr(dGates), Ptr(dCPrev), batch, hidden);
    }

    public void GruCell(Tensor xProj, Tensor hProj, Tensor hPrev, Tensor h, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.GruCell, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(hPrev), Ptr(h), batch, hidden);
    }

    public void GruCellGrad(Tensor xProj, Tensor hProj, Tensor hPrev, Tensor dh, Tensor dXProj, Tensor dHProj, Tensor dHPrev, int batch, int hidden)
    {
        Enter();
        if (batch * hidden == 0) return;
        LaunchN(Kernels.GruCellGrad, batch * hidden, Ptr(xProj), Ptr(hProj), Ptr(hPrev), Ptr(dh), Ptr(dXProj), Ptr(dHProj), Ptr(dHPrev), batch, hidden);
    }
}
