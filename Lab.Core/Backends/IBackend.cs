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
    void Upload(ReadOnlySpan<float> src, Tensor dst);
    void Download(Tensor src, Span<float> dst);
    /// <summary>dst = src (same element count).</summary>
    void Copy(Tensor src, Tensor dst);
    void Fill(Tensor dst, float value);

    // ---- element-wise ----
    /// <summary>y = f(x) element-wise (x and y may be the same tensor).</summary>
    void Unary(UnaryOp op, Tensor x, Tensor y, float alpha = 0, float beta = 0);
    /// <summary>dx = f'(x) * dy, fused; y = f(x) is given for functions whose derivative is cheaper from it.</summary>
    void UnaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float alpha = 0, float beta = 0);
    /// <summary>y = a op b with PyTorch broadcasting of a and b to y's shape.</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);
    /// <summary>y = cond != 0 ? a : b, all three broadcast to y's shape.</summary>
    void Where(Tensor cond, Tensor a, Tensor b, Tensor y);
    /// <summary>y += alpha * x (same shape); the optimizers' and gradient accumulation's workhorse.</summary>
    void Axpy(float alpha, Tensor x, Tensor y);

    // ---- reductions over [outer, n, inner] ----
    void Reduce(ReduceOp op, Tensor x, int outer, int n, int inner, Tensor y);
    void Softmax(Tensor x, Tensor y, int outer, int n, int inner, bool log);
    /// <summary>dx = softmax'(y) dy, or log-softmax's when <paramref name="log"/> (y is the forward output).</summary>
    void SoftmaxGrad(Tensor y, Tensor dy, Tensor dx, int outer, int n, int inner, bool log);

    // ---- linear algebra ----
    /// <summary>
    /// For each of <paramref name="batch"/> matrices: C = op(A) op(B) + beta C, row-major, with
    /// op(A) m x k and op(B) k x n. A stride of 0 reuses one matrix for the whole batch.
    /// </summary>
    void MatMul(Tensor a, bool transA, long strideA, Tensor b, bool transB, long strideB,
        Tensor c, int batch, int m, int n, int k, float beta);

    // ---- data movement ----
    /// <summary>y = x.permute(perm); y has the permuted shape.</summary>
    void Permute(Tensor x, ReadOnlySpan<int> perm, Tensor y);
    /// <summary>
    /// Copies <paramref name="rows"/> blocks of <paramref name="cols"/> floats: block r goes from
    /// src[srcOffset + r*srcStride] to dst[dstOffset + r*dstStride] (concat and slices along any axis).
    /// When <paramref name="accumulate"/> is set, adds into dst instead.
    /// </summary>
    void CopyBlocks(Tensor src, int srcOffset, int srcStride, Tensor dst, int dstOffset, int dstStride,
        int rows, int cols, bool accumulate);
    /// <summary>y[o, j, i] = x[o, index[j], i] over [outer, n, inner] x; index holds integral floats.</summary>
    void IndexSelect(Tensor x, Tensor index, Tensor y, int outer, int n, int inner);
    /// <summary>dx[o, index[j], i] += dy[o, j, i] (the adjoint of IndexSelect; dx is accumulated).</summary>
    void IndexAdd(Tensor dy, Tensor index, Tensor dx, int outer, int n, int inner);
    /// <summary>y[r] = x[r, index[r]] for a rows x n matrix x (class-index gather).</summary>
    void Gather(Tensor x, Tensor index, Tensor y, int rows, int n);
    /// <summary>dx[r, index[r]] += dy[r] (dx is accumulated).</summary>
    void ScatterAdd(Tensor dy, Tensor index, Tensor dx, int rows, int n);

    // ---- optimizer updates (fused: one pass over each parameter, no temporaries) ----
    /// <summary>
    /// Adam/AdamW: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; then p -= lr_t m / (sqrt(v) + eps_t), where
    /// lr_t and eps_t carry the bias corrections (see <see cref="AdamArgs"/>). Weight decay is added to g
    /// (Adam) or applied to p directly (AdamW, decoupled). With <paramref name="maxV"/> (AMSGrad),
    /// maxV = max(maxV, v) takes v's place in the denominator.
    /// </summary>
    void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor? maxV, in AdamArgs args);
    /// <summary>
    /// SGD: g += wd p; buf = momentum buf + gradScale g; p -= lr (nesterov ? g + momentum buf : buf).
    /// gradScale is 1 - dampening, or 1 on the step that starts the buffer.
    /// </summary>
    void SgdStep(Tensor param, Tensor grad, Tensor? velocity, float lr, float momentum, float gradScale, bool nesterov, float weightDecay);
    /// <summary>
    /// RMSprop: s = rho s + (1-rho) g²; p -= lr g / (sqrt(s) + eps) (with optional momentum buffer). Centred when
    /// <paramref name="gradAverage"/> is given: a = rho a + (1-rho) g, and s - a² takes s's place under the root.
    /// </summary>
    void RmsPropStep(Tensor param, Tensor grad, Tensor square, Tensor? gradAverage, Tensor? momentumBuffer, float lr, float rho, float eps, float momentum, float weightDecay);
    /// <summary>Sum of squares of all elements, as a one-element tensor (gradient clipping by norm).</summary>
    void SumOfSquares(Tensor x, Tensor result);

    // ---- attention / normalization ----
    /// <summary>
    /// Layer normalisation of each of <paramref name="rows"/> contiguous rows of <paramref name="n"/> floats:
    /// y = (x - mean) * rstd with the biased variance, and rstd[r] = 1 / sqrt(var + eps) saved for the backward pass.
    /// </summary>
    void LayerNorm(Tensor x, Tensor y, Tensor rstd, int rows, int n, float eps);
    /// <summary>dx = rstd (dy - mean(dy) - y mean(dy y)) per row, with y and rstd from <see cref="LayerNorm"/>.</summary>
    void LayerNormGrad(Tensor y, Tensor rstd, Tensor dy, Tensor dx, int rows, int n);

    // ---- convolution and pooling (NCHW; weight K x C x R x S) ----
    void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g);
    void Conv2dGradInput(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g);
    void Conv2dGradWeight(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g);
    /// <summary>db[k] = sum of dy over n, h, w for each output channel k of an N x K x (hw) tensor.</summary>
    void ChannelSum(Tensor dy, Tensor db, int n, int channels, int spatial);
    /// <summary>y = each window's first maximum (or last NaN); indices = its position in the input plane, -1 for none.</summary>
    void MaxPool2d(Tensor x, Tensor y, Tensor indices, in PoolGeometry g);
    /// <summary>dx (zeroed by the backend) receives dy at the argmax positions.</summary>
    void MaxPool2dGrad(Tensor dy, Tensor indices, Tensor dx, in PoolGeometry g);
    /// <summary>y = x at the argmax positions (0 where an index is -1): the adjoint of <see cref="MaxPool2dGrad"/>.</summary>
    void MaxPool2dGather(Tensor x, Tensor indices, Tensor y, in PoolGeometry g);
    void AvgPool2d(Tensor x, Tensor y, in PoolGeometry g);
    /// <summary>The adjoint of <see cref="AvgPool2d"/> (it overwrites dx).</summary>
    void AvgPool2dGrad(Tensor dy, Tensor dx, in PoolGeometry g);
}
