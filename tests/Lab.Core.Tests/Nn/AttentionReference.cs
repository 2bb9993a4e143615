using Lab.Core.Tests.Ops;

namespace Lab.Core.Tests.Nn;

/// <summary>
/// Double-precision references for layer normalisation and the attention layers, written from the definitions (Keras's
/// documented formulas) as plain loops over indices, with no tensor ops: the oracle the registry and layer tests use.
/// </summary>
public static class AttentionReference
{
    /// <summary>Normalises each run of the last <paramref name="n"/> elements (biased variance), then weight and bias per element of the run.</summary>
    public static R LayerNorm(R x, int n, R? weight, R? bias, double eps)
    {
        var d = new double[x.Numel];
        for (int row = 0; row < x.Numel / n; row++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < n; j++) mean += x.Data[row * n + j];
            mean /= n;
            for (int j = 0; j < n; j++) variance += Math.Pow(x.Data[row * n + j] - mean, 2);
            variance /= n;
            for (int j = 0; j < n; j++)
                d[row * n + j] = (x.Data[row * n + j] - mean) / Math.Sqrt(variance + eps) * (weight?.Data[j] ?? 1) + (bias?.Data[j] ?? 0);
        }
        return new R(d, x.Shape);
    }

    /// <summary>Keras's scores: "dot" (q·k, times scale), "concat" (w · Σ tanh(scale (q + k))) or "additive" (Σ scale_f tanh(q + k)).</summary>
    public static R Scores(string mode, R q, R k, R? scale, R? concatWeight = null)
    {
        int b = q.Shape[0], tq = q.Shape[1], tv = k.Shape[1], dim = q.Shape[2];
        var s = new double[b * tq * tv];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < tq; i++)
                for (int j = 0; j < tv; j++)
                {
                    double acc = 0;
                    for (int f = 0; f < dim; f++)
                    {
                        double qf = q.Data[(n * tq + i) * dim + f], kf = k.Data[(n * tv + j) * dim + f];
                        acc += mode switch
                        {
                            "dot" => qf * kf,
                            "concat" => Math.Tanh((scale?.Data[0] ?? 1) * (qf + kf)),
                            _ => (scale?.Data[f] ?? 1) * Math.Tanh(qf + kf),
                        };
                    }
                    if (mode == "dot") acc *= scale?.Data[0] ?? 1;
                    if (mode == "concat") acc *= concatWeight!.Data[0];
                    s[(n * tq + i) * tv + j] = acc;
                }
        return new R(s, [b, tq, tv]);
    }

    /// <summary>
    /// Keras's Attention._apply_scores and query masking: scores - 1e9 where the value is masked or (causal) j &gt; i,
    /// softmax over j, times the dropout mask when given, the weighted sum of the values, zeroed at masked queries.
    /// Returns the output [B, Tq, Dv] and the weights before dropout [B, Tq, Tv].
    /// </summary>
    public static (R Output, R Weights) ApplyScores(R scores, R v, double[]? queryMask, double[]? valueMask, bool causal, R? dropMask = null)
    {
        int b = scores.Shape[0], tq = scores.Shape[1], tv = scores.Shape[2], dv = v.Shape[2];
        var w = new double[b * tq * tv];
        var o = new double[b * tq * dv];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < tq; i++)
            {
                var row = new double[tv];
                for (int j = 0; j < tv; j++)
                {
                    bool keep = (valueMask is null || valueMask[n * tv + j] != 0) && (!causal || i >= j);
                    row[j] = scores.Data[(n * tq + i) * tv + j] - (keep ? 0 : 1e9);
                }
                double max = row.Max(), sum = row.Sum(r => Math.Exp(r - max));
                for (int j = 0; j < tv; j++) w[(n * tq + i) * tv + j] = Math.Exp(row[j] - max) / sum;
                double qm = queryMask is null ? 1 : queryMask[n * tq + i];
                for (int f = 0; f < dv; f++)
                {
                    double acc = 0;
                    for (int j = 0; j < tv; j++)
                        acc += w[(n * tq + i) * tv + j] * (dropMask?.Data[(n * tq + i) * tv + j] ?? 1) * v.Data[(n * tv + j) * dv + f];
                    o[(n * tq + i) * dv + f] = acc * qm;
                }
            }
        return (new R(o, [b, tq, dv]), new R(w, [b, tq, tv]));
    }

    /// <summary>
    /// Keras's MultiHeadAttention by its einsums: per head h, Q = x_q W_q[:, h, :] + b_q[h] (and K, V alike), scores
    /// Q·K / sqrt(keyDim), masked (allowed[n, i, j] == 0) to -1e9 and softmaxed over j, then multiplied by the mask;
    /// output = Σ_h Σ_d (Σ_j weight V[j, d]) W_o[h, d, :] + b_o. Returns the output [B, Tq, Dout] and the scores [B, H, Tq, Tv].
    /// </summary>
    public static (R Output, R Scores) MultiHead(R query, R value, R key, R wq, R? bq, R wk, R? bk, R wv, R? bv, R wo, R? bo, Func<int, int, int, bool>? allowed)
    {
        int b = query.Shape[0], tq = query.Shape[1], tv = value.Shape[1];
        int heads = wq.Shape[1], dk = wq.Shape[2], dv = wv.Shape[2], dout = wo.Shape[2];
        double[,,,] Project(R x, R w, R? bias, int steps, int dim)
        {
            int features = x.Shape[2];
            var p = new double[b, steps, heads, dim];
            for (int n = 0; n < b; n++)
                for (int t = 0; t < steps; t++)
                    for (int h = 0; h < heads; h++)
                        for (int e = 0; e < dim; e++)
                        {
                            double acc = bias?.Data[h * dim + e] ?? 0;
                            for (int c = 0; c < features; c++) acc += x.Data[(n * steps + t) * features + c] * w.Data[(c * heads + h) * dim + e];
                            p[n, t, h, e] = acc;
                        }
            return p;
        }
        var q = Project(query, wq, bq, tq, dk);
        var k = Project(key, wk, bk, tv, dk);
        var v = Project(value, wv, bv, tv, dv);
        var scores = new double[b * heads * tq * tv];
        var output = new double[b * tq * dout];
        for (int n = 0; n < b; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < tq; i++)
                {
                    var row = new double[tv];
                    for (int j = 0; j < tv; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < dk; e++) dot += q[n, i, h, e] * k[n, j, h, e];
                        row[j] = allowed is null || allowed(n, i, j) ? dot / Math.Sqrt(dk) : -1e9;
                    }
                    double max = row.Max(), sum = row.Sum(r => Math.Exp(r - max));
                    for (int j = 0; j < tv; j++)
                    {
                        double weight = Math.Exp(row[j] - max) / sum * (allowed is null || allowed(n, i, j) ? 1 : 0);
                        scores[((n * heads + h) * tq + i) * tv + j] = weight;
                    }
                }
        for (int n = 0; n < b; n++)
            for (int i = 0; i < tq; i++)
                for (int o = 0; o < dout; o++)
                {
                    double acc = bo?.Data[o] ?? 0;
                    for (int h = 0; h < heads; h++)
                        for (int e = 0; e < dv; e++)
                        {
                            double context = 0;
                            for (int j = 0; j < tv; j++) context += scores[((n * heads + h) * tq + i) * tv + j] * v[n, j, h, e];
                            acc += context * wo.Data[(h * dv + e) * dout + o];
                        }
                    output[(n * tq + i) * dout + o] = acc;
                }
        return (new R(output, [b, tq, dout]), new R(scores, [b, heads, tq, tv]));
    }
}
