using System.Numerics;

namespace Lab.Core.Backends;

public sealed partial class CpuBackend
{
    public void AdamStep(in StorageView param, in StorageView grad, in StorageView m, in StorageView v, in StorageView maxV, in AdamArgs a)
    {
        Span<float> p = param.Span, ms = m.Span, vs = v.Span;
        Span<float> mx = maxV.IsNone ? default : maxV.Span;
        bool amsgrad = !maxV.IsNone;
        ReadOnlySpan<float> g = grad.Span;
        float b1 = a.Beta1, b2 = a.Beta2, c1 = 1 - b1, c2 = 1 - b2, step = a.StepSize, eps = a.Epsilon;
        float wd = a.Decoupled ? 0 : a.WeightDecay, keep = a.Decoupled ? a.DecoupledFactor : 1f;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // The same operations in the same order as the scalar tail, a vector at a time (bit-identical).
            var (vb1, vb2, vc1, vc2, vstep, veps, vwd, vkeep) = (new Vector<float>(b1), new Vector<float>(b2), new Vector<float>(c1),
                new Vector<float>(c2), new Vector<float>(step), new Vector<float>(eps), new Vector<float>(wd), new Vector<float>(keep));
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pi = new Vector<float>(p[i..]);
                var gi = new Vector<float>(g[i..]) + vwd * pi;
                var mi = vb1 * new Vector<float>(ms[i..]) + vc1 * gi;
                var vi = vb2 * new Vector<float>(vs[i..]) + vc2 * gi * gi;
                mi.CopyTo(ms[i..]);
                vi.CopyTo(vs[i..]);
                if (amsgrad) { vi = Vector.Max(new Vector<float>(mx[i..]), vi); vi.CopyTo(mx[i..]); }
                (pi * vkeep - vstep * mi / (Vector.SquareRoot(vi) + veps)).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i] + wd * p[i];
            float mi = ms[i] = b1 * ms[i] + c1 * gi;
            float vi = vs[i] = b2 * vs[i] + c2 * gi * gi;
            if (amsgrad) vi = mx[i] = MathF.Max(mx[i], vi);
            p[i] = p[i] * keep - step * mi / (MathF.Sqrt(vi) + eps);
        }
    }

    public void SgdStep(in StorageView param, in StorageView grad, in StorageView velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay)
    {
        Span<float> p = param.Span;
        ReadOnlySpan<float> g = grad.Span;
        if (velocity.IsNone)
        {
            for (int i = 0; i < p.Length; i++) p[i] -= lr * (g[i] + weightDecay * p[i]);
            return;
        }
        Span<float> b = velocity.Span;
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i] + weightDecay * p[i];
            float bi = b[i] = momentum * b[i] + (gradScale == 1 ? gi : gradScale * gi);
            p[i] -= lr * (nesterov ? gi + momentum * bi : bi);
        }
    }

    public void RmsPropStep(in StorageView param, in StorageView grad, in StorageView square, in StorageView gradAverage, in StorageView momentumBuffer, float lr, float rho, float eps, float momentum, float weightDecay)
    {
        Span<float> p = param.Span, s = square.Span;
        Span<float> mb = momentumBuffer.IsNone ? default : momentumBuffer.Span;
        Span<float> ga = gradAverage.IsNone ? default : gradAverage.Span;
        ReadOnlySpan<float> g = grad.Span;
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i] + weightDecay * p[i];
            float si = s[i] = rho * s[i] + (1 - rho) * gi * gi;
            if (!gradAverage.IsNone)
            {
                float ai = ga[i] = rho * ga[i] + (1 - rho) * gi;
                si -= ai * ai;   // the variance estimate of the centred form
            }
            float update = gi / (MathF.Sqrt(si) + eps);
            if (!momentumBuffer.IsNone) update = mb[i] = momentum * mb[i] + update;
            p[i] -= lr * update;
        }
    }

    public void SumOfSquares(in StorageView x, in StorageView result)
        => result.Span[0] = System.Numerics.Tensors.TensorPrimitives.SumOfSquares(x.Span);
}
