using Lab.Core.Backends;

namespace Lab.Core.Cuda;

public sealed partial class CudaBackend
{
    public void AdamStep(in StorageView param, in StorageView grad, in StorageView m, in StorageView v, in StorageView maxV, in AdamArgs a)
    {
        Enter();
        float wd = a.Decoupled ? 0 : a.WeightDecay, keep = a.Decoupled ? a.DecoupledFactor : 1f;
        LaunchN(Kernels.AdamStep, param.Numel, Ptr(param), Ptr(grad), Ptr(m), Ptr(v), PtrOrNull(this, maxV), param.Numel,
            a.StepSize, a.Beta1, a.Beta2, a.Epsilon, wd, keep);
    }

    public void SgdStep(in StorageView param, in StorageView grad, in StorageView velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay)
    {
        Enter();
        LaunchN(Kernels.SgdStep, param.Numel, Ptr(param), Ptr(grad), PtrOrNull(this, velocity), param.Numel, lr, momentum, gradScale, nesterov, weightDecay);
    }

    public void RmsPropStep(in StorageView param, in StorageView grad, in StorageView square, in StorageView gradAverage, in StorageView momentumBuffer, float lr, float rho, float eps, float momentum, float weightDecay)
    {
        Enter();
        LaunchN(Kernels.RmsPropStep, param.Numel, Ptr(param), Ptr(grad), Ptr(square), PtrOrNull(this, gradAverage), PtrOrNull(this, momentumBuffer), param.Numel,
            lr, rho, eps, momentum, weightDecay);
    }
}
