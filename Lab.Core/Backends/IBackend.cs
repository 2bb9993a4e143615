namespace Lab.Core.Backends;

/// <summary>
/// The kernels a device provides. Ops in Lab.Core.Ops validate shapes, allocate outputs and record
/// autograd nodes; they reach memory only through this interface, so a second device (CUDA) is a
/// second implementation of it. All tensors passed in are contiguous and live on this backend's device;
/// outputs are preallocated by the caller with the documented shape, and are overwritten unless a
/// method says it accumulates.
/// </summary>
public interface IBackend
{
    Device Device { get; }

    // ---- memory ----
    /// <summary>New storage of <paramref name="length"/> floats; zero-filled when <paramref name="zero"/> is set.</summary>
    Storage Allocate(int length, bool zero);
    void Upload(ReadOnlySpan<float> src, in StorageView dst);
    void Download(in StorageView src, Span<float> dst);
    /// <summary>dst = src (same element count).</summary>
    void Copy(in StorageView src, in StorageView dst);
    void Fill(in StorageView dst, float value);

    // ---- element-wise ----
    /// <summary>y = f(x) element-wise (x and y may be the same tensor).</summary>
    void Unary(UnaryOp op, in StorageView x, in StorageView y, float alpha = 0, float beta = 0);
    /// <summary>dx = f'(x) * dy, fused; y = f(x) is given for functions whose derivative is cheaper from it.</summary>
    void UnaryGrad(UnaryOp op, in StorageView x, in StorageView y, in StorageView dy, in StorageView dx, float alpha = 0, float beta = 0);
    /// <summary>y = a op b with PyTorch broadcasting of a and b to y's shape.</summary>
    void Binary(BinaryOp op, in StorageView a, in StorageView b, in StorageView y);
    /// <summary>y = cond != 0 ? a : b, all three broadcast to y's shape.</summary>
    void Where(in StorageView cond, in StorageView a, in StorageView b, in StorageView y);
    /// <summary>y += alpha * x (same shape); the optimizers' and gradient accumulation's workhorse.</summary>
    void Axpy(float alpha, in StorageView x, in StorageView y);

    // ---- reductions over [outer, n, inner] ----
    void Reduce(ReduceOp op, in StorageView x, int outer, int n, int inner, in StorageView y);
    void Softmax(in StorageView x, in StorageView y, int outer, int n, int inner, bool log);
    /// <summary>dx = softmax'(y) dy, or log-softmax's when <paramref name="log"/> (y is the forward output).</summary>
    void SoftmaxGrad(in StorageView y, in StorageView dy, in StorageView dx, int outer, int n, int inner, bool log);

    // ---- linear algebra ----
    /// <summary>
    /// For each of <paramref name="batch"/> matrices: C = op(A) op(B) + beta C, row-major, with
    /// op(A) m x k and op(B) k x n. A stride of 0 reuses one matrix for the whole batch.
    /// </summary>
    void MatMul(in StorageView a, bool transA, long strideA, in StorageView b, bool transB, long strideB,
        in StorageView c, int batch, int m, int n, int k, float beta);

    // ---- data movement ----
    /// <summary>y = x.permute(perm); y has the permuted shape.</summary>
    void Permute(in StorageView x, ReadOnlySpan<int> perm, in StorageView y);
    /// <summary>
    /// Copies <paramref name="rows"/> blocks of <paramref name="cols"/> floats: block r goes from
    /// src[srcOffset + r*srcStride] to dst[dstOffset + r*dstStride] (concat and slices along any axis).
    /// When <paramref name="accumulate"/> is set, adds into dst instead.
    /// </summary>
    void CopyBlocks(in StorageView src, int srcOffset, int srcStride, in StorageView dst, int dstOffset, int dstStride,
        int rows, int cols, bool accumulate);
    /// <summary>y[o, j, i] = x[o, index[j], i] over [outer, n, inner] x; index holds integral floats.</summary>
    void IndexSelect(in StorageView x, in StorageView index, in StorageView y, int outer, int n, int inner);
    /// <summary>dx[o, index[j], i] += dy[o, j, i] (the adjoint of IndexSelect; dx is accumulated).</summary>
    void IndexAdd(in StorageView dy, in StorageView index, in StorageView dx, int outer, int n, int inner);
    /// <summary>y[r] = x[r, index[r]] for a rows x n matrix x (class-index gather).</summary>
    void Gather(in StorageView x, in StorageView index, in StorageView y, int rows, int n);
    /// <summary>dx[r, index[r]] += dy[r] (dx is accumulated).</summary>
    void ScatterAdd(in StorageView dy, in StorageView index, in StorageView dx, int rows, int n);

    // ---- optimizer updates (fused: one pass over each parameter, no temporaries) ----
    /// <summary>
    /// Adam/AdamW: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; then p -= lr_t m / (sqrt(v) + eps_t), where
    /// lr_t and eps_t carry the bias corrections (see <see cref="AdamArgs"/>). Weight decay is added to g
    /// (Adam) or applied to p directly (AdamW, decoupled). With <paramref name="maxV"/> (AMSGrad),
    /// maxV = max(maxV, v) takes v's place in the denominator.
    /// </summary>
    void AdamStep(in StorageView param, in StorageView grad, in StorageView m, in StorageView v, in StorageView maxV, in AdamArgs args);
    /// <summary>
    /// SGD: g += wd p; buf = momentum buf + gradScale g; p -= lr (nesterov ? g + momentum buf : buf).
    /// gradScale is 1 - dampening, or 1 on the step that starts the buffer.
    /// </summary>
    void SgdStep(in StorageView param, in StorageView grad, in StorageView velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay);
    /// <summary>
    /// RMSprop: s = rho s + (1-rho) g²; p -= lr g / (sqrt(s) + eps) (with optional momentum buffer). Centred when
    /// <paramref name="gradAverage"/> is given: a = rho a + (1-rho) g, and s - a² takes s's place under the root.
    /// </summary>
    void RmsPropStep(in StorageView param, in StorageView grad, in StorageView square, in StorageView gradAverage, in StorageView momentumBuffer, float lr, float rho, float eps, float momentum, float weightDecay);
    /// <summary>Sum of squares of all elements, as a one-element tensor (gradient clipping by norm).</summary>
    void SumOfSquares(in StorageView x, in StorageView result);

    // ---- attention / normalization ----
    /// <summary>
    /// Layer normalisation of each of <paramref name="rows"/> contiguous rows of <paramref name="n"/> floats:
    /// y = (x - mean) * rstd with the biased variance, and rstd[r] = 1 / sqrt(var + eps) saved for the backward pass.
    /// </summary>
    void LayerNorm(in StorageView x, in StorageView y, in StorageView rstd, int rows, int n, float eps);
    /// <summary>dx = rstd (dy - mean(dy) - y mean(dy y)) per row, with y and rstd from <see cref="LayerNorm"/>.</summary>
    void LayerNormGrad(in StorageView y, in StorageView rstd, in StorageView dy, in StorageView dx, int rows, int n);

    /// <summary>
    /// Whether this backend has the fused batch-norm kernels below; without them <see cref="Tensor.BatchNorm"/> is
    /// composed from element-wise ops and reductions (the default, so a backend need not implement them).
    /// </summary>
    bool FusesBatchNorm => false;
    /// <summary>
    /// Training-mode batch norm of an N x C x spatial tensor: per channel mean and invStd = 1 / sqrt(var + eps) (biased
    /// variance), y = (x - mean) invStd weight + bias (weight, bias optional), and the running statistics (optional)
    /// moved toward the mean and the unbiased variance by momentum.
    /// </summary>
    void BatchNormTrain(in StorageView x, in StorageView weight, in StorageView bias, in StorageView y, in StorageView mean, in StorageView invStd,
        in StorageView runningMean, in StorageView runningVar, int n, int channels, int spatial, float momentum, float eps)
        => throw new NotSupportedException($"{GetType().Name} has no fused batch norm.");
    /// <summary>Evaluation-mode batch norm: y = (x - runningMean) / sqrt(runningVar + eps) weight + bias.</summary>
    void BatchNormEval(in StorageView x, in StorageView runningMean, in StorageView runningVar, in StorageView weight, in StorageView bias,
        in StorageView y, int n, int channels, int spatial, float eps)
        => throw new NotSupportedException($"{GetType().Name} has no fused batch norm.");
    /// <summary>
    /// The gradient of <see cref="BatchNormTrain"/>'s output with the mean and invStd it saved: dx, dWeight (Σ dy x̂) and
    /// dBias (Σ dy), each optional.
    /// </summary>
    void BatchNormGrad(in StorageView x, in StorageView dy, in StorageView mean, in StorageView invStd, in StorageView weight,
        in StorageView dx, in StorageView dWeight, in StorageView dBias, int n, int channels, int spatial)
        => throw new NotSupportedException($"{GetType().Name} has no fused batch norm.");

    // ---- convolution and pooling (NCHW; weight K x C x R x S) ----
    void Conv2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in ConvGeometry g);
    void Conv2dGradInput(in StorageView dy, in StorageView w, in StorageView dx, in ConvGeometry g);
    void Conv2dGradWeight(in StorageView x, in StorageView dy, in StorageView dw, in ConvGeometry g);
    /// <summary>db[k] = sum of dy over n, h, w for each output channel k of an N x K x (hw) tensor.</summary>
    void ChannelSum(in StorageView dy, in StorageView db, int n, int channels, int spatial);
    /// <summary>y = each window's first maximum (or last NaN); indices = its position in the input plane, -1 for none.</summary>
    void MaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g);
    /// <summary>dx (zeroed by the backend) receives dy at the argmax positions.</summary>
    void MaxPool2dGrad(in StorageView dy, in StorageView indices, in StorageView dx, in PoolGeometry g);
    /// <summary>y = x at the argmax positions (0 where an index is -1): the adjoint of <see cref="MaxPool2dGrad"/>.</summary>
    void MaxPool2dGather(in StorageView x, in StorageView indices, in StorageView y, in PoolGeometry g);
    /// <summary>
    /// y = max pooling of relu(x), indices = x's argmax (windows must all lie in the input). relu(max) is max(relu) bit
    /// for bit; a backend without a fused kernel pools, then applies ReLU to the pooled output.
    /// </summary>
    void ReluMaxPool2d(in StorageView x, in StorageView y, in StorageView indices, in PoolGeometry g)
    {
        MaxPool2d(x, y, indices, g);
        Unary(UnaryOp.Relu, y, y);
    }
    /// <summary>dx (zeroed by the backend) receives dy at the argmax positions of the windows whose output y is positive.</summary>
    void ReluMaxPool2dGrad(in StorageView dy, in StorageView y, in StorageView indices, in StorageView dx, in PoolGeometry g)
    {
        // y > 0 exactly where the window's ReLU passes its gradient, so ReLU's gradient read from y masks dy.
        var masked = new StorageView(Allocate(dy.Numel, zero: false), 0, dy.Shape);
        UnaryGrad(UnaryOp.Relu, y, y, dy, masked);
        MaxPool2dGrad(masked, indices, dx, g);
    }
    /// <summary>Whether <see cref="Conv2dReluMaxPool2d"/> has a kernel for these geometries; otherwise the op runs Conv2d, then ReluMaxPool2d.</summary>
    bool FusesConv2dReluMaxPool2d(in ConvGeometry conv, in PoolGeometry pool) => false;
    /// <summary>y and indices as <see cref="ReluMaxPool2d"/> of <see cref="Conv2d"/>'s output, which is never written (where <see cref="FusesConv2dReluMaxPool2d"/>).</summary>
    void Conv2dReluMaxPool2d(in StorageView x, in StorageView w, in StorageView bias, in StorageView y, in StorageView indices,
        in ConvGeometry conv, in PoolGeometry pool) =>
        throw new NotSupportedException($"{Device}: no fused convolution, ReLU and max pool kernel.");
    /// <summary>Whether <see cref="Conv2dReluMaxPool2dGradWeight"/> has a kernel for these geometries.</summary>
    bool FusesConv2dReluMaxPool2dGradWeight(in ConvGeometry conv, in PoolGeometry pool) => false;
    /// <summary>
    /// The weight and bias (db may be none) gradients of <see cref="Conv2dReluMaxPool2d"/> for pooled gradient dy, from its
    /// output y and indices, without the convolution-sized gradient (where <see cref="FusesConv2dReluMaxPool2dGradWeight"/>).
    /// </summary>
    void Conv2dReluMaxPool2dGradWeight(in StorageView x, in StorageView dy, in StorageView y, in StorageView indices,
        in StorageView dw, in StorageView db, in ConvGeometry conv, in PoolGeometry pool) =>
        throw new NotSupportedException($"{Device}: no fused convolution, ReLU and max pool kernel.");
    /// <summary>Whether <see cref="Conv2dReluMaxPool2dGradInput"/> has a kernel for these geometries.</summary>
    bool FusesConv2dReluMaxPool2dGradInput(in ConvGeometry conv, in PoolGeometry pool) => false;
    /// <summary>
    /// The input gradient dx (overwritten) of <see cref="Conv2dReluMaxPool2d"/> for pooled gradient dy, from its output y and
    /// indices and the weights w, without the convolution-sized gradient (where <see cref="FusesConv2dReluMaxPool2dGradInput"/>).
    /// </summary>
    void Conv2dReluMaxPool2dGradInput(in StorageView dy, in StorageView y, in StorageView indices, in StorageView w,
        in StorageView dx, in ConvGeometry conv, in PoolGeometry pool) =>
        throw new NotSupportedException($"{Device}: no fused convolution, ReLU and max pool kernel.");
    void AvgPool2d(in StorageView x, in StorageView y, in PoolGeometry g);
    /// <summary>The adjoint of <see cref="AvgPool2d"/> (it overwrites dx).</summary>
    void AvgPool2dGrad(in StorageView dy, in StorageView dx, in PoolGeometry g);

    // ---- recurrent (fused gate kernels; Keras's gate order; rows are samples, H the units) ----
    /// <summary>
    /// LSTM step: a = xProj + hProj ([B, 4H], gates i, f, c, o); c = σ(a_f) cPrev + σ(a_i) tanh(a_c);
    /// h = σ(a_o) tanh(c). <paramref name="state"/> is [2, B, H]: h, then c.
    /// </summary>
    void LstmCell(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, int batch, int hidden);
    /// <summary>The LSTM step's adjoint: dGates [B, 4H] (the gradient of xProj and of hProj) and dCPrev [B, H] from dState [2, B, H].</summary>
    void LstmCellGrad(in StorageView xProj, in StorageView hProj, in StorageView cPrev, in StorageView state, in StorageView dState, in StorageView dGates, in StorageView dCPrev, int batch, int hidden);
    /// <summary>
    /// GRU step with the reset gate after the recurrent product (Keras's reset_after, gates z, r, h): z = σ(x_z + h_z),
    /// r = σ(x_r + h_r), n = tanh(x_h + r h_h), h = z hPrev + (1 - z) n; xProj and hProj are [B, 3H] and carry their biases.
    /// </summary>
    void GruCell(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView h, int batch, int hidden);
    /// <summary>The GRU step's adjoint: dXProj, dHProj [B, 3H] and dHPrev [B, H] from dh [B, H].</summary>
    void GruCellGrad(in StorageView xProj, in StorageView hProj, in StorageView hPrev, in StorageView dh, in StorageView dXProj, in StorageView dHProj, in StorageView dHPrev, int batch, int hidden);
}
