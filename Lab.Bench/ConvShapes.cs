using Lab.Core.Backends;

namespace Lab.Bench;

/// <summary>The convolution layers of the seed models, as the geometry each backend kernel sees.</summary>
public static class ConvShapes
{
    /// <summary>
    /// Name -> geometry. ConvTranspose2d layers appear as the convolution they are the adjoint of: their forward
    /// pass is that convolution's Conv2dGradInput, their input gradient its Conv2d.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ConvGeometry> All = new Dictionary<string, ConvGeometry>
    {
        // DigitsCnn, batch 10: 1 -> 4 -> 8 -> 8 channels, 3x3 valid, 8x8 -> 6 -> 4 -> 2.
        ["digits1"] = new(10, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0),
        ["digits2"] = new(10, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0),
        ["digits3"] = new(10, 8, 4, 4, 8, 3, 3, 1, 1, 0, 0),
        // MnistCnn, batch 32: 28 -> 26 (pool 13) -> 11 (pool 5) -> 3.
        ["mnist1"] = new(32, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0),
        ["mnist2"] = new(32, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0),
        ["mnist3"] = new(32, 64, 5, 5, 64, 3, 3, 1, 1, 0, 0),
        // VAE / GAN, batch 16: encoder's last conv, and the decoder's ConvTranspose2d 16 -> 8 (2x2) on 4x4 and 4 -> 1 (3x3) on 6x6.
        ["vae3"] = new(16, 8, 4, 4, 16, 3, 3, 1, 1, 0, 0),
        ["vaeT1"] = new(16, 8, 5, 5, 16, 2, 2, 1, 1, 0, 0),
        ["vaeT3"] = new(16, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0),
        // GAN, batch 16: the discriminator's 4 -> 8 (3x3 on 6x6; its 1 -> 4 is vaeT3, its 8 -> 16 vae3) and the generator's
        // ConvTranspose2d 8 -> 4 (2x2 on 5x5; its 16 -> 8 is vaeT1).
        ["gan2"] = new(16, 4, 6, 6, 8, 3, 3, 1, 1, 0, 0),
        ["ganT2"] = new(16, 4, 6, 6, 8, 2, 2, 1, 1, 0, 0),
        // Not in a seed model: a strided, padded layer and a 1x1 layer of the sizes a small DCGAN uses.
        ["s2pad1"] = new(16, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1),
        ["1x1"] = new(16, 32, 8, 8, 64, 1, 1, 1, 1, 0, 0),
    };

    /// <summary>Floating-point operations of one pass (forward, input gradient or weight gradient all have the same count).</summary>
    public static double Flops(in ConvGeometry g) => 2.0 * g.N * g.K * g.C * g.R * g.S * g.OutH * g.OutW;
}
